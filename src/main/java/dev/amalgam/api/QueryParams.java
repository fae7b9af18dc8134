package dev.amalgam.api;

import dev.amalgam.registry.RegistryException;

/**
 * Typed query parameters, taken as text and converted here: JAX-RS answers a query parameter it
 * cannot convert with 404 "no such resource", which sends users looking for the wrong mistake. A
 * bad value is a 400 naming the parameter, the expected range and the value received.
 */
final class QueryParams {
    private QueryParams() {
    }

    /** An integer in {@code [min, max]}; {@code fallback} when the parameter is absent. */
    static long integer(String name, String value, long fallback, long min, long max) {
        if (value == null || value.isEmpty()) return fallback;
        long v;
        try {
            v = Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            throw invalid(name, value, min, max);
        }
        if (v < min || v > max) throw invalid(name, value, min, max);
        return v;
    }

    private static RegistryException invalid(String name, String value, long min, long max) {
        String range = max == Long.MAX_VALUE ? "an integer >= " + min : "an integer from " + min + " to " + max;
        return RegistryException.badRequest("query parameter '" + name + "' must be "
                + range + ", not '" + (value.length() > 40 ? value.substring(0, 40) + "..." : value) + "'");
    }
}
