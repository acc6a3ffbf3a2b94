package dev.forkless.runtime.admin;

import dev.forkless.runtime.testing.Admin;
import dev.forkless.runtime.testing.RuntimeProcess;
import dev.forkless.runtime.testing.KeepAliveLoad;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The dashboard in a real headless Chromium (Debian's {@code chromium} and {@code chromium-driver}; .ci/run
 * installs them): it shows both copies, the tail of each one's output (updated live), and its restart button replaces one, whose slot's restart count
 * goes up. Selenium is given the driver and the browser explicitly, so it never looks for (or downloads)
 * either. Set {@code -Dforkless.dashboard.screenshot=FILE} to keep a screenshot (docs/img/dashboard.png).
 */
class DashboardIT {

    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");

    @TempDir
    Path profile;

    private static void requireChromium() {
        boolean present = Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER);
        if (!present) {
            String message = "the dashboard test needs " + CHROMIUM + " and " + CHROMEDRIVER
                    + " (apt-get install chromium chromium-driver; .ci/run does it)";
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                fail(message);
            }
            Assumptions.abort(message);
        }
    }

    @Test
    void showsBothCopiesAndRestartsOne() throws Exception {
        requireChromium();
        try (RuntimeProcess runtime = RuntimeProcess.demo("--isolates", "2", "--standby", "0", "--admin", "127.0.0.1:0")) {
            var address = runtime.awaitReady();
            Admin admin = Admin.of(runtime);
            String screenshot = System.getProperty("forkless.dashboard.screenshot");
            // for the screenshot: enough connections that both copies serve some, for long enough to fill the charts
            KeepAliveLoad load = KeepAliveLoad.start(address, "/", screenshot == null ? 2 : 8,
                    Duration.ofSeconds(screenshot == null ? 8 : 60));
            if (screenshot != null) {
                busyAndLeaking(address, Duration.ofSeconds(60)); // what issue 17 asks the dashboard to show
            }
            ChromeDriverService service = driverService();
            WebDriver browser = new ChromeDriver(service,
                    chromeOptions(screenshot == null ? "--window-size=1400,520" : "--window-size=1900,1250"));
            try {
                browser.get(admin.url() + "/#token=" + admin.token());
                WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(20));
                wait.ignoring(org.openqa.selenium.StaleElementReferenceException.class);
                wait.until(b -> readyRows(b).size() == 2);
                // the event timeline has the copies' starts, which came before the admin API started
                wait.until(b -> b.findElements(By.cssSelector("#events li")).stream()
                        .filter(li -> li.getText().contains(" event=ready")).count() == 2);
                assertEquals("", browser.getCurrentUrl().contains("token=") ? "token left in the URL" : "");
                // each isolate's CPU share and allocation rate, metered by the runtime, not null
                wait.until(b -> readyRows(b).stream().allMatch(r ->
                        r.findElement(By.cssSelector("td.cpu")).getText().contains("% of jvm")
                                && r.findElement(By.cssSelector("td.memory")).getText().contains("alloc")));
                // the tail of each copy's output: what it printed at start, and a line printed now, live
                wait.until(b -> readyRows(b).stream().allMatch(r -> {
                    String id = r.getAttribute("data-id").replaceAll("/.*", "");
                    return logOf(b, id).contains("demo listening on");
                }));
                String logged = dev.forkless.runtime.testing.Http.get(address, "/log?lines=1&threads=0").body();
                String printer = logged.replaceAll(".* by ", "").trim();
                wait.until(b -> logOf(b, printer).matches("(?s).*log worker=" + printer + " thread=\\S+ seq=0 stream=out.*"));
                assertTrue(browser.findElements(By.cssSelector(".log[data-copy=\"" + printer + "\"] pre span.err")).stream()
                        .anyMatch(e -> e.getDomProperty("textContent").contains(" seq=0 stream=err")),
                        "a line of standard error is marked as one");
                String slot1 = restartsOfSlot(browser, "1");
                String slot2 = restartsOfSlot(browser, "2");
                String expected = String.valueOf(Integer.parseInt(slot1) + 1);
                if (screenshot != null) {
                    // twenty points on every copy's charts (one a poll, a second apart)
                    new WebDriverWait(browser, Duration.ofSeconds(60)).until(b -> Boolean.TRUE.equals(
                            ((org.openqa.selenium.JavascriptExecutor) b).executeScript("return series.size > 0"
                                    + " && [...series.values()].every(h => h.rates.length >= 20)")));
                    File png = ((ChromeDriver) browser).getScreenshotAs(OutputType.FILE);
                    Files.copy(png.toPath(), Path.of(screenshot), StandardCopyOption.REPLACE_EXISTING);
                }
                String oldId = rowOfSlot(browser, "1").getAttribute("data-id");
                rowOfSlot(browser, "1").findElement(By.cssSelector("button.restart")).click();
                wait.until(b -> expected.equals(restartsOfSlot(b, "1")));
                assertTrue(!oldId.equals(rowOfSlot(browser, "1").getAttribute("data-id")), "slot 1 has a new copy");
                wait.until(b -> b.findElement(By.id("message")).getText().contains("done"));
                assertEquals(slot2, restartsOfSlot(browser, "2"), "the other copy was left alone");
                String oldCopy = oldId.substring(0, oldId.indexOf('/'));
                wait.until(b -> b.findElement(By.id("events")).getText().contains("isolate=" + oldCopy + " event=drained"));
            } finally {
                browser.quit();
                service.stop();
            }
            load.await();
            assertEquals(0, load.failed(), "restarting from the dashboard fails no request: " + load.summary());
        }
    }

    /** The log panel's text of one copy, or "" while it is not shown. */
    /**
     * A runtime of two apps: a row per app, whose buttons stop one app, start it again and scale it, while
     * the other serves on without a failed request.
     */
    @Test
    void aRuntimeOfSeveralAppsHasARowPerAppThatStopsStartsAndScalesIt() throws Exception {
        requireChromium();
        String demo = RuntimeProcess.demoJar().toString();
        String app = """
                  - name: %s
                    app: %s
                    args: ["--port", "0", "--host", "127.0.0.1"]
                    isolates: 1
                """;
        Path config = Files.writeString(apps.resolve("ecosystem.yaml"), "standby: 0\nadmin: 127.0.0.1:0\napps:\n"
                + app.formatted("web", demo) + app.formatted("api", demo));
        Path home = Files.createDirectory(apps.resolve("home"),
                java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                        java.nio.file.attribute.PosixFilePermissions.fromString("rwx------")));
        try (RuntimeProcess runtime = RuntimeProcess.startWithEnvironment(
                java.util.Map.of("FORKLESS_HOME", home.toString()), "--config", config.toString())) {
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(120)).until(() ->
                    runtime.count(l -> l.startsWith("forkless ready: ")) == 2 || !runtime.process().isAlive());
            java.util.Map<String, java.net.InetSocketAddress> at = new java.util.HashMap<>();
            for (String line : runtime.lines()) {
                java.util.regex.Matcher m = READY.matcher(line);
                if (m.find()) {
                    at.put(m.group(1), new java.net.InetSocketAddress(m.group(2), Integer.parseInt(m.group(3))));
                }
            }
            assertEquals(java.util.Set.of("web", "api"), at.keySet(), runtime.output());
            Admin admin = Admin.of(runtime);
            KeepAliveLoad web = KeepAliveLoad.start(at.get("web"), "/", 2, Duration.ofSeconds(300));
            WebDriver browser = null;
            ChromeDriverService service = driverService();
            try {
                browser = new ChromeDriver(service, chromeOptions("--window-size=1400,700"));
                browser.get(admin.url() + "/#token=" + admin.token());
                WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(60));
                wait.ignoring(org.openqa.selenium.StaleElementReferenceException.class);
                wait.until(b -> b.findElement(By.id("apps-section")).isDisplayed()
                        && "running".equals(appCell(b, "web", "state")) && "running".equals(appCell(b, "api", "state")));
                assertTrue(!browser.findElement(By.id("scale-all")).isDisplayed(), "a scale names its app: no scale of all");
                assertTrue(!appRow(browser, "api").findElement(By.cssSelector("button.start")).isDisplayed(),
                        "no start for an app that runs");

                appRow(browser, "api").findElement(By.cssSelector("button.stop")).click();
                wait.until(b -> "stopped".equals(appCell(b, "api", "state"))
                        && appRow(b, "api").findElement(By.cssSelector("button.start")).isDisplayed());
                assertEquals("running", appCell(browser, "web", "state"), "the other app runs on");
                assertTrue(runtime.process().isAlive(), "the runtime goes on while another app serves");

                wait.until(b -> !b.findElement(By.id("message")).getText().endsWith("…"));
                appRow(browser, "api").findElement(By.cssSelector("button.start")).click();
                wait.until(b -> "running".equals(appCell(b, "api", "state")) && "1 / 1".equals(appCell(b, "api", "copies")));
                wait.until(b -> b.findElement(By.id("message")).getText().equals("start of api done."));
                assertEquals(200, dev.forkless.runtime.testing.Http.get(at.get("api"), "/").status(), "api serves again");

                WebElement copies = appRow(browser, "api").findElement(By.cssSelector("input.copies"));
                // as a user does: select what the field shows and type over it (clear() sets it empty without
                // focus, and the next poll may put the current count back before the keys come)
                copies.sendKeys(org.openqa.selenium.Keys.chord(org.openqa.selenium.Keys.CONTROL, "a"), "2");
                assertEquals("2", copies.getDomProperty("value"), "the field holds what was typed");
                appRow(browser, "api").findElement(By.cssSelector("button.scale")).click();
                wait.until(b -> "2 / 2".equals(appCell(b, "api", "copies")));
                assertEquals("1 / 1", appCell(browser, "web", "copies"), "the other app was left alone");
            } finally {
                if (browser != null) {
                    browser.quit();
                }
                service.stop();
            }
            web.close();
            assertEquals(0, web.failed(), "stopping, starting and scaling one app fails no request of the other: "
                    + web.summary());
            assertTrue(web.ok() > 0, web.summary());
        }
    }

    private static final java.util.regex.Pattern READY =
            java.util.regex.Pattern.compile("forkless ready: (\\S+): \\d+ \\S+ serving \\[([^:]+):(\\d+)]");

    @TempDir
    Path apps;

    private ChromeOptions chromeOptions(String windowSize) {
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--no-first-run", windowSize, "--user-data-dir=" + profile);
        return options;
    }

    private static ChromeDriverService driverService() {
        return new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile()).usingAnyFreePort().build();
    }

    private static WebElement appRow(WebDriver browser, String app) {
        return browser.findElement(By.cssSelector("#apps tbody tr[data-app=\"" + app + "\"]"));
    }

    private static String appCell(WebDriver browser, String app, String column) {
        List<WebElement> rows = browser.findElements(By.cssSelector("#apps tbody tr[data-app=\"" + app + "\"]"));
        return rows.isEmpty() ? null : rows.getFirst().findElement(By.cssSelector("td." + column)).getText();
    }

    private static String logOf(WebDriver browser, String copy) {
        return browser.findElements(By.cssSelector(".log[data-copy=\"" + copy + "\"] pre")).stream()
                .map(e -> e.getDomProperty("textContent")).findFirst().orElse(""); // scrolled-out lines too
    }

    private static List<WebElement> readyRows(WebDriver browser) {
        return browser.findElements(By.cssSelector("#workers tbody tr")).stream()
                .filter(r -> r.findElement(By.cssSelector("td.state")).getText().equals("ready")).toList();
    }

    private static WebElement rowOfSlot(WebDriver browser, String slot) {
        return browser.findElements(By.cssSelector("#workers tbody tr")).stream()
                .filter(r -> r.findElements(By.tagName("td")).get(1).getText().equals(slot))
                .findFirst().orElseThrow();
    }

    private static String restartsOfSlot(WebDriver browser, String slot) {
        try {
            return rowOfSlot(browser, slot).findElement(By.cssSelector("td.restarts")).getText();
        } catch (org.openqa.selenium.WebDriverException | java.util.NoSuchElementException e) {
            return null; // the table was redrawn meanwhile
        }
    }
    /**
     * For the screenshot: one copy busy ({@code /work?ms=20} in a loop) and the other leaking
     * ({@code /leak?mb=1} five times a second), each on a keep-alive connection of its own, for {@code time}.
     */
    private static void busyAndLeaking(java.net.InetSocketAddress address, Duration time) throws Exception {
        java.util.Map<String, dev.forkless.runtime.testing.Http> byCopy = new java.util.HashMap<>();
        for (int i = 0; i < 20 && byCopy.size() < 2; i++) {
            var http = new dev.forkless.runtime.testing.Http(address);
            String copy = http.send("/whoami", false).body().replaceAll(".*\"isolate\":\"([^\"]+)\".*", "$1").trim();
            if (byCopy.putIfAbsent(copy, http) != null) {
                http.close();
            }
        }
        var connections = java.util.List.copyOf(byCopy.values());
        long end = System.nanoTime() + time.toNanos();
        Thread.ofPlatform().daemon(true).start(() -> loop(connections.get(0), "/work?ms=20", 0, end));
        if (connections.size() > 1) {
            Thread.ofPlatform().daemon(true).start(() -> loop(connections.get(1), "/leak?mb=1", 200, end));
        }
    }

    private static void loop(dev.forkless.runtime.testing.Http http, String path, long pauseMillis, long end) {
        try (http) {
            while (System.nanoTime() < end) {
                http.send(path, false);
                if (pauseMillis > 0) {
                    Thread.sleep(pauseMillis); // the leak's pace, not a wait for the runtime
                }
            }
        } catch (Exception e) {
            // the copy was restarted: the screenshot is taken by then
        }
    }
}
