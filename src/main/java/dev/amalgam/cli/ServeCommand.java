package dev.amalgam.cli;

import dev.amalgam.policy.Policies;
import dev.amalgam.policy.PolicyFileException;
import dev.amalgam.registry.DataDirectory;
import dev.amalgam.registry.ServerSettings;
import io.quarkus.runtime.Quarkus;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.Driver;
import java.sql.SQLException;
import java.util.Properties;
import java.util.concurrent.Callable;

/**
 * {@code amalgam serve}: checks the configuration (data directory, database, port) and only then
 * boots the Quarkus server, so a bad setting gives one clear line instead of a stack trace.
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Start the registry server.",
                "Defaults: data in ./amalgam-data (AMALGAM_DATA), H2 database inside it,"
                        + " listening on 127.0.0.1 only (AMALGAM_HOST=0.0.0.0 opens every interface),"
                        + " port 8080 (AMALGAM_PORT). PostgreSQL: AMALGAM_DB_URL=jdbc:postgresql://HOST:5432/DB"
                        + " with AMALGAM_DB_USER / AMALGAM_DB_PASSWORD."})
final class ServeCommand implements Callable<Integer> {
    private static final int H2_DATABASE_IN_USE = 90020;

    @Option(names = "--data", paramLabel = "DIR", description = "Data directory (default: $AMALGAM_DATA or ./amalgam-data).")
    String data;

    @Option(names = "--port", paramLabel = "PORT", description = "HTTP port (default: $AMALGAM_PORT or 8080).")
    Integer port;

    /** Handled by the ./amalgam launcher (it starts this command in the background); declared for the help. */
    @Option(names = "--detach", description = "Start in the background, wait until ready, print where the admin token"
            + " and the log are (./amalgam launcher; ./amalgam stop stops it).")
    boolean detach;

    @Override
    public Integer call() {
        if (detach) {
            throw new CliException(CliException.UNUSABLE, "serve --detach is run by the ./amalgam launcher"
                    + " (it builds, starts the server in the background and waits until it is ready)");
        }
        if (data != null) System.setProperty("amalgam.data", data);
        if (port != null) System.setProperty("quarkus.http.port", Integer.toString(port));
        ServerSettings settings;
        try {
            settings = ServerSettings.fromEnvironment();
            DataDirectory.prepare(settings);
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw new CliException(e.getMessage());
        }
        checkPolicies(settings);
        checkPort(host(), effectivePort());
        checkDatabase(settings);
        Quarkus.run();
        return 0;
    }

    /** A bad policy file stops the registry before it starts, with the loader's one-line message. */
    private static void checkPolicies(ServerSettings s) {
        if (!Files.isDirectory(s.policiesDir())) {
            throw new CliException("no policy folder at " + s.policiesDir()
                    + " (set AMALGAM_POLICIES to the folder holding licenses.yaml and release.yaml)");
        }
        try {
            Policies.load(s.policiesDir());
        } catch (PolicyFileException e) {
            throw new CliException("invalid policy: " + e.getMessage());
        }
    }

    private int effectivePort() {
        if (port != null) return port;
        String env = System.getenv("AMALGAM_PORT");
        if (env == null || env.isBlank()) return 8080;
        try {
            int p = Integer.parseInt(env.trim());
            if (p < 0 || p > 65535) throw new NumberFormatException();
            return p;
        } catch (NumberFormatException e) {
            throw new CliException("AMALGAM_PORT must be a port number (0-65535), not '" + env + "'");
        }
    }

    /** The address the server binds: AMALGAM_HOST, else loopback only (application.properties agrees). */
    static String host() {
        String env = System.getenv("AMALGAM_HOST");
        return env == null || env.isBlank() ? "127.0.0.1" : env.strip();
    }

    private static void checkPort(String host, int p) {
        if (p == 0) return;
        InetSocketAddress address = new InetSocketAddress(host, p);
        if (address.isUnresolved()) {
            throw new CliException("AMALGAM_HOST '" + host + "' is not an address of this machine"
                    + " (127.0.0.1: this machine only; 0.0.0.0: every interface)");
        }
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(address);
        } catch (IOException e) {
            String why = e.getMessage() == null ? "" : e.getMessage();
            if (why.contains("in use")) {
                throw new CliException("port " + p + " is already in use on " + host + " (another amalgam serve?);"
                        + " set AMALGAM_PORT or --port");
            }
            throw new CliException("cannot listen on " + host + ":" + p + ": " + why
                    + " (AMALGAM_HOST must be an address of this machine, or 0.0.0.0)");
        }
    }

    /** Opens and closes one connection, so a wrong URL, password or a locked H2 file is reported clearly. */
    static void checkDatabase(ServerSettings s) {
        Properties props = new Properties();
        if (s.dbUser() != null) props.setProperty("user", s.dbUser());
        if (s.dbPassword() != null) props.setProperty("password", s.dbPassword());
        Driver driver;
        if (s.dbKind() == ServerSettings.DatabaseKind.POSTGRESQL) {
            props.setProperty("connectTimeout", "5");
            props.setProperty("loginTimeout", "5");
            driver = new org.postgresql.Driver();
        } else {
            driver = new org.h2.Driver();
        }
        try (Connection c = driver.connect(s.jdbcUrl(), props)) {
            if (c == null) throw new CliException("database URL not accepted by the driver: " + s.jdbcUrl());
        } catch (SQLException e) {
            if (s.dbKind() == ServerSettings.DatabaseKind.H2 && e.getErrorCode() == H2_DATABASE_IN_USE) {
                throw new CliException("cannot open the database in " + s.dbDir()
                        + ": it is in use by another process (another amalgam serve on this data directory?)");
            }
            throw new CliException("cannot open the database " + redact(s.jdbcUrl()) + ": "
                    + firstLine(e.getMessage()));
        }
    }

    private static String firstLine(String m) {
        if (m == null) return "unknown error";
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }

    /** Drops a password given inside the URL. */
    static String redact(String url) {
        return url.replaceAll("(?i)(password=)[^&;]*", "$1***");
    }
}
