package dev.amalgam.registry;

import java.sql.SQLException;
import org.hibernate.exception.ConstraintViolationException;

/** Recognises a database unique-constraint violation anywhere in an exception's causes. */
public final class UniqueViolation {
    private UniqueViolation() {
    }

    public static boolean in(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c instanceof ConstraintViolationException cve
                    && cve.getKind() == ConstraintViolationException.ConstraintKind.UNIQUE) {
                return true;
            }
            if (c instanceof SQLException sql && "23505".equals(sql.getSQLState())) return true;
        }
        return false;
    }
}
