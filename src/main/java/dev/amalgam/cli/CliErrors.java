package dev.amalgam.cli;

import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.ParseResult;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;

/**
 * Turns an exception escaping a command into one line on stderr and an exit code.
 * {@code AMALGAM_DEBUG=1} adds the stack trace for bug reports.
 */
final class CliErrors implements IExecutionExceptionHandler {
    static final int INTERNAL = 70; // EX_SOFTWARE

    @Override
    public int handleExecutionException(Exception ex, CommandLine cmd, ParseResult parseResult) {
        var err = cmd.getErr();
        int code;
        if (ex instanceof CliException ce) {
            err.println("amalgam: " + ce.getMessage());
            code = ce.exitCode();
        } else if (ex instanceof IOException || ex instanceof UncheckedIOException) {
            err.println("amalgam: " + describe(ex));
            code = CliException.FAILED;
        } else if (ex instanceof IllegalArgumentException) {
            err.println("amalgam: " + ex.getMessage());
            code = CliException.FAILED;
        } else {
            err.println("amalgam: internal error: " + describe(ex)
                    + " (set AMALGAM_DEBUG=1 for details)");
            code = INTERNAL;
        }
        if ("1".equals(System.getenv("AMALGAM_DEBUG"))) {
            ex.printStackTrace(err);
        }
        err.flush();
        return code;
    }

    static String describe(Throwable t) {
        String msg = t.getMessage();
        if (t instanceof NoSuchFileException) return "no such file: " + msg;
        if (t instanceof AccessDeniedException) return "permission denied: " + msg;
        if (t instanceof FileAlreadyExistsException) return "already exists: " + msg;
        return msg == null ? t.getClass().getSimpleName() : msg;
    }
}
