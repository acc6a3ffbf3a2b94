package dev.forkless.runtime;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;

/**
 * The operating system's reason for a failed file operation, as the user knows it ({@code Permission
 * denied}, {@code Not a directory}): Java's file exceptions often carry only the path in their message.
 */
public final class IoReason {

    private IoReason() {
    }

    /**
     * @param e a failed file operation
     * @return its reason in a few words, without the path when the exception names only the path
     */
    public static String of(IOException e) {
        if (e instanceof FileSystemException fs) {
            if (fs.getReason() != null && !fs.getReason().isBlank()) {
                return fs.getReason();
            }
            return switch (fs) {
                case AccessDeniedException a -> "Permission denied";
                case NoSuchFileException n -> "No such file or directory";
                case NotDirectoryException n -> "Not a directory";
                case FileAlreadyExistsException f -> "File exists";
                case DirectoryNotEmptyException d -> "Directory not empty";
                default -> fs.getClass().getSimpleName();
            };
        }
        String message = e.getMessage();
        return message == null || message.isBlank() ? e.getClass().getSimpleName() : message;
    }
}
