#!/usr/bin/env bash
# Builds the container image with Jib and runs it, where no registry and no container engine are at
# hand (as on Forkless's build machines): the base image is made from the local JDK (jlink) and the
# host's glibc as a docker-save tar, the image is built on it with -Dimage.base=tar://..., then its
# layers are unpacked and its entrypoint and default layout run in a chroot: the demo must answer and
# SIGTERM must stop it with exit 0. Needs root (chroot, mounting /proc and /dev). Not part of ./dev test.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "smoke-test: needs root (chroot)" >&2; exit 2; }
JAVA_HOME=$(./dev java-home)
export JAVA_HOME PATH="$JAVA_HOME/bin:$PATH"
work=$(mktemp -d)
root=$work/rootfs
cleanup() {
  [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null || true
  umount "$root/proc" "$root/dev" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# 1. a base image: a jlinked JRE, the C library it links against, a shell
base=$work/base
mkdir -p "$base/root/opt" "$base/root/tmp" "$base/root/etc"
"$JAVA_HOME/bin/jlink" --add-modules java.se,jdk.unsupported,jdk.management,jdk.crypto.ec,jdk.zipfs,jdk.net \
  --strip-debug --no-man-pages --no-header-files --output "$base/root/opt/java"
for f in /lib/x86_64-linux-gnu/{libc.so.6,libdl.so.2,libm.so.6,libpthread.so.0,librt.so.1} \
         /lib64/ld-linux-x86-64.so.2 /bin/dash /bin/sleep; do
  (cd "$base/root" && cp --parents -L "$f" .)
done
ln -s dash "$base/root/bin/sh"
mkdir -p "$base/root/proc" "$base/root/dev"
chmod 1777 "$base/root/tmp"
echo "root:x:0:0:root:/root:/bin/sh" > "$base/root/etc/passwd"
tar --numeric-owner -C "$base/root" -cf "$base/layer.tar" $(ls "$base/root")
diff_id=$(sha256sum "$base/layer.tar" | cut -d' ' -f1)
cat > "$base/config.json" <<JSON
{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/opt/java/bin:/usr/bin:/bin"]},
 "rootfs":{"type":"layers","diff_ids":["sha256:$diff_id"]}}
JSON
echo '[{"Config":"config.json","RepoTags":["local/jre:25"],"Layers":["layer.tar"]}]' > "$base/manifest.json"
tar -C "$base" -cf "$base/base.tar" manifest.json config.json layer.tar

# 2. the image, with Jib, on that base
mvn -B -ntp -q -Pimage package -DskipTests -Dimage.base="tar://$base/base.tar"
image=image/target/forkless-image.tar

# 3. unpack its layers in order and run its entrypoint with its default layout
mkdir -p "$root" "$work/image"
tar -C "$work/image" -xf "$image"
for layer in $(python3 -c "import json,sys; print(' '.join(json.load(open(sys.argv[1]))[0]['Layers']))" "$work/image/manifest.json"); do
  tar --warning=no-unknown-keyword -C "$root" -xzf "$work/image/$layer"
done
entrypoint=$(python3 -c "import json,sys; m=json.load(open(sys.argv[1]+'/manifest.json'))[0]; c=json.load(open(sys.argv[1]+'/'+m['Config'])); print(' '.join(c['config']['Entrypoint']))" "$work/image")
[ "$entrypoint" = "java -jar /app/runtime.jar" ] || { echo "smoke-test: entrypoint is '$entrypoint'" >&2; exit 1; }
mount -t proc proc "$root/proc"
mount --bind /dev "$root/dev"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
env -i PATH=/opt/java/bin:/usr/bin:/bin /usr/sbin/chroot "$root" /bin/sh -c \
  "cd /app && exec $entrypoint --isolates 2 --standby 0 /app/demo.jar --port $port --host 127.0.0.1" \
  > "$work/out.log" 2>&1 &
pid=$!
for _ in $(seq 60); do grep -q '^forkless ready' "$work/out.log" && break; sleep 0.5; done
answer=$(python3 -c "import urllib.request,sys; print(urllib.request.urlopen('http://127.0.0.1:$port/').read().decode())")
[ "$answer" = "Hello World" ] || { cat "$work/out.log"; echo "smoke-test: the demo answered '$answer'" >&2; exit 1; }
kill -TERM "$pid"
code=0; wait "$pid" || code=$?
pid=
[ "$code" = 0 ] || { cat "$work/out.log"; echo "smoke-test: exit $code after SIGTERM" >&2; exit 1; }
echo "smoke-test: image $(du -h "$image" | cut -f1) built by Jib; in it the runtime served the demo and stopped with exit 0"
