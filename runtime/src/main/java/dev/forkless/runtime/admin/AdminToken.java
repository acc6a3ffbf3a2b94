package dev.forkless.runtime.admin;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Optional;

/**
 * The bearer token that mutating admin requests must carry.
 *
 * @param value the token
 * @param file  where it was written for the CLI to read, when the runtime made it up
 */
record AdminToken(String value, Optional<Path> file) {

    AdminToken {
        if (value.isBlank()) {
            throw new IllegalArgumentException("the admin token must not be empty");
        }
        dev.forkless.runtime.Limit.ADMIN_TOKEN.check("the admin token's length", value.length());
    }

    /** @return a random token of 256 bits, in no file yet */
    static AdminToken random() {
        byte[] bytes = new byte[32];
        new SecureRandom().nextBytes(bytes);
        return new AdminToken(HexFormat.of().formatHex(bytes), Optional.empty());
    }

    /**
     * Writes the token to a file only its owner can read; an existing file is replaced. Its folder must be
     * the user's own: one created here is made owner-only, and an existing one that others may read or
     * write is made owner-only too, with a warning (another user could otherwise read the token, or swap
     * the file for their own).
     *
     * @param path     the file
     * @param warnings receives one line per thing fixed
     * @return this token, with its file
     * @throws IOException when it cannot be written, or the folder belongs to another user
     */
    AdminToken writeTo(Path path, java.util.function.Consumer<String> warnings) throws IOException {
        Path dir = path.toAbsolutePath().getParent();
        if (!Files.isDirectory(dir)) {
            try {
                Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            } catch (UnsupportedOperationException e) {
                Files.createDirectories(dir);
            }
        }
        ownersOnly(dir, warnings);
        Files.deleteIfExists(path);
        try {
            Files.createFile(path, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (UnsupportedOperationException e) {
            Files.createFile(path);
        } catch (FileAlreadyExistsException e) {
            throw new IOException("token file " + path + " appeared while it was being written");
        }
        Files.writeString(path, value + "\n", StandardCharsets.UTF_8, StandardOpenOption.TRUNCATE_EXISTING);
        return new AdminToken(value, Optional.of(path));
    }

    /** Makes the token's folder its owner's only; refuses one that belongs to someone else. */
    private static void ownersOnly(Path dir, java.util.function.Consumer<String> warnings) throws IOException {
        java.nio.file.attribute.PosixFileAttributeView view =
                Files.getFileAttributeView(dir, java.nio.file.attribute.PosixFileAttributeView.class);
        if (view == null) {
            return; // not a POSIX file system: its own access rules apply
        }
        java.nio.file.attribute.PosixFileAttributes attributes = view.readAttributes();
        String me = System.getProperty("user.name");
        java.nio.file.attribute.UserPrincipal owner = attributes.owner();
        if (!owner.getName().equals(me) && !"root".equals(me)) {
            throw new IOException("the folder " + dir + " belongs to " + owner.getName() + ", not to " + me
                    + ": another user could read or replace the token");
        }
        java.util.Set<java.nio.file.attribute.PosixFilePermission> permissions = attributes.permissions();
        java.util.Set<java.nio.file.attribute.PosixFilePermission> own = PosixFilePermissions.fromString("rwx------");
        if (!own.containsAll(permissions)) {
            view.setPermissions(own);
            warnings.accept("the folder " + dir + " was open to other users ("
                    + PosixFilePermissions.toString(permissions) + "): made it rwx------, the owner's only");
        }
    }

    /** As {@link #writeTo(Path, java.util.function.Consumer)}, warnings dropped. */
    AdminToken writeTo(Path path) throws IOException {
        return writeTo(path, w -> { });
    }

    /** Deletes the token's file, if the runtime wrote one. */
    void deleteFile() {
        file.ifPresent(f -> {
            try {
                Files.deleteIfExists(f);
            } catch (IOException ignored) {
                // best effort: the next start replaces it
            }
        });
    }

    /**
     * @param authorization the request's {@code Authorization} header, if any
     * @return whether it is {@code Bearer <this token>}; compared in constant time
     */
    boolean accepts(Optional<String> authorization) {
        if (authorization.isEmpty()) {
            return false;
        }
        String header = authorization.get().trim();
        if (header.length() < 7 || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return false;
        }
        byte[] given = header.substring(7).trim().getBytes(StandardCharsets.UTF_8);
        return MessageDigest.isEqual(given, value.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * The token file the runtime writes, and the CLI reads, for an admin port:
     * {@code ~/.forkless/admin-PORT.token} (in the {@link dev.forkless.runtime.registry.ForklessHome}).
     *
     * @param port the admin port
     * @return the path
     */
    static Path defaultFile(int port) {
        return dev.forkless.runtime.registry.ForklessHome.current().tokenFile(port);
    }

    @Override
    public String toString() {
        return "AdminToken[" + file.map(Path::toString).orElse("given") + "]";
    }
}
