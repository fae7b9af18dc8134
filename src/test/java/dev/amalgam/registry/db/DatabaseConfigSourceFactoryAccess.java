package dev.amalgam.registry.db;

import dev.amalgam.registry.ServerSettings;

import java.util.Map;

/** Lets tests in other packages see the derived properties. */
public final class DatabaseConfigSourceFactoryAccess {
    private DatabaseConfigSourceFactoryAccess() {
    }

    public static Map<String, String> properties(ServerSettings s) {
        return DatabaseConfigSourceFactory.properties(s);
    }
}
