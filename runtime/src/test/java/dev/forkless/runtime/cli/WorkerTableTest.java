package dev.forkless.runtime.cli;

import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code list} and {@code monit}: an isolate's metered figures are named for what they are, never as RSS. */
class WorkerTableTest {

    @Test
    void anIsolateShowsItsShareAndAllocationAProcessItsCpuTimeAndRss() throws Exception {
        var workers = new ObjectMapper().readTree("""
                [{"id":"1","slot":"1","mode":"isolate","pid":10,"state":"ready","uptimeMs":1000,"restarts":0,
                  "requests":5,"activeConnections":1,"cpuMs":null,"memoryBytes":null,"lastExit":null,
                  "cpuShare":0.874,"cpuCores":0.9,"allocatedBytesPerSecond":2097152,"allocatedBytes":9,
                  "classes":1200,"metaspaceBytes":5000000,"keptHeapShare":0.5,"keptHeapBytes":62914560},
                 {"id":"2","slot":"2","mode":"process","pid":11,"state":"ready","uptimeMs":1000,"restarts":0,
                  "requests":5,"activeConnections":1,"cpuMs":1500,"memoryBytes":104857600,"lastExit":null,
                  "cpuShare":null,"cpuCores":null,"allocatedBytesPerSecond":null,"allocatedBytes":null,
                  "classes":null,"metaspaceBytes":null,"keptHeapShare":null,"keptHeapBytes":null}]""");
        List<String> lines = WorkerTable.render(workers, Map.of());
        assertTrue(lines.get(1).contains("87% of jvm") && lines.get(1).contains("alloc 2.0 MiB/s")
                && lines.get(1).contains("kept ~60.0 MiB"), lines.get(1));
        assertTrue(!lines.get(1).contains("rss"), lines.get(1));
        assertTrue(lines.get(2).contains("1.5s") && lines.get(2).contains("100.0 MiB rss"), lines.get(2));
    }

    @Test
    void eachServingCopyShowsItsInstanceNumberAStandbyNone() throws Exception {
        var workers = new ObjectMapper().readTree("""
                [{"id":"4","slot":"1","mode":"isolate","pid":10,"state":"ready"},
                 {"id":"2","slot":"2","mode":"isolate","pid":10,"state":"ready"},
                 {"id":"5","slot":"s1","mode":"isolate","pid":10,"state":"standby"}]""");
        List<String> lines = WorkerTable.render(workers, Map.of());
        int inst = lines.get(0).indexOf("INST");
        assertEquals(List.of("0", "1", "-"), lines.subList(1, 4).stream()
                .map(l -> l.substring(inst, inst + 4).trim()).toList());
    }

    @Test
    void copiesOfSeveralAppsGetAnAppColumnOneAppsDoNot() throws Exception {
        var several = new ObjectMapper().readTree("""
                [{"app":"web","id":"1","slot":"1","mode":"isolate","pid":10,"state":"ready"},
                 {"app":"api","id":"2","slot":"1","mode":"process","pid":11,"state":"ready"},
                 {"app":"flaky","id":"-","slot":"1","mode":"-","pid":0,"state":"errored"}]""");
        List<String> lines = WorkerTable.render(several, Map.of());
        assertTrue(lines.get(0).startsWith("APP    ID  SLOT"), lines.get(0));
        assertTrue(lines.get(2).startsWith("api    2   1"), lines.get(2));
        assertTrue(lines.get(3).startsWith("flaky  -") && lines.get(3).contains("errored"), lines.get(3));
        var one = new ObjectMapper().readTree("""
                [{"app":"web","id":"1","slot":"1","mode":"isolate","pid":10,"state":"ready"}]""");
        assertTrue(WorkerTable.render(one, Map.of()).get(0).startsWith("ID  SLOT  INST  MODE"));
    }
}
