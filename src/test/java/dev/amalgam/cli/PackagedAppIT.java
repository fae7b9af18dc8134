package dev.amalgam.cli;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The packaged application as a user runs it: {@code amalgam serve} as a real process on the
 * embedded defaults (or on PostgreSQL when AMALGAM_TEST_PG_URL is set, in a database of its own),
 * the CLI talking to it over HTTP, and bad configuration failing in one line.
 */
class PackagedAppIT {
    private static final Path APP = Path.of(System.getProperty("amalgam.app.dir", "target/quarkus-app"))
            .resolve("quarkus-run.jar");
    private static final String JAVA = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    private static final String PG_URL = System.getenv("AMALGAM_TEST_PG_URL");
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    static Path data;

    static Process server;
    static int port;
    static String pgDatabase;
    static Map<String, String> serverEnv = new HashMap<>();

    @BeforeAll
    static void startServer() throws Exception {
        assertTrue(Files.isRegularFile(APP), "package the application first: " + APP);
        port = freePort();
        serverEnv.put("AMALGAM_DATA", data.toString());
        serverEnv.put("AMALGAM_PORT", Integer.toString(port));
        if (PG_URL != null) {
            pgDatabase = "amalgam_it_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
            try (Connection c = DriverManager.getConnection(PG_URL, pgUser(), ""); Statement s = c.createStatement()) {
                s.execute("CREATE DATABASE " + pgDatabase);
            }
            serverEnv.put("AMALGAM_DB_URL", PG_URL.substring(0, PG_URL.lastIndexOf('/') + 1) + pgDatabase);
            serverEnv.put("AMALGAM_DB_USER", pgUser());
        }
        server = start(serverEnv, data.resolve("server.log"), "serve");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (true) {
            assertTrue(server.isAlive(), "server exited: " + Files.readString(data.resolve("server.log")));
            try {
                if (get("/q/health/ready", null).statusCode() == 200) break;
            } catch (IOException notYet) {
                // still starting
            }
            assertTrue(System.nanoTime() < deadline, "server not ready: " + Files.readString(data.resolve("server.log")));
            Thread.sleep(250);
        }
    }

    @AfterAll
    static void stopServer() throws Exception {
        if (server != null) {
            server.destroy();
            server.waitFor(30, TimeUnit.SECONDS);
        }
        if (pgDatabase != null) {
            try (Connection c = DriverManager.getConnection(PG_URL, pgUser(), ""); Statement s = c.createStatement()) {
                s.execute("DROP DATABASE IF EXISTS " + pgDatabase + " WITH (FORCE)");
            }
        }
    }

    @Test
    void serverIsHealthyAndReportsItsDatabase() throws Exception {
        HttpResponse<String> health = get("/q/health", null);
        assertEquals(200, health.statusCode());
        assertTrue(health.body().contains("\"UP\""), health.body());
        HttpResponse<String> info = get("/api/v1/info", adminToken());
        assertEquals(200, info.statusCode(), info.body());
        assertTrue(info.body().contains("\"database\":\"" + (PG_URL == null ? "h2" : "postgresql") + "\""), info.body());
        assertTrue(Files.isRegularFile(data.resolve("keys/registry-signing-key.pem")));
        assertTrue(Files.isRegularFile(data.resolve("ledger.git/HEAD")));
        if (PG_URL == null) assertTrue(Files.exists(data.resolve("db/amalgam.mv.db")), "H2 file database in the data dir");
    }

    /** By default the registry is reachable from this machine only (AMALGAM_HOST opens it). */
    @Test
    void serverListensOnLoopbackOnly() throws Exception {
        java.net.InetAddress outside = null;
        for (var nic : java.util.Collections.list(java.net.NetworkInterface.getNetworkInterfaces())) {
            for (var a : java.util.Collections.list(nic.getInetAddresses())) {
                if (!a.isLoopbackAddress() && a instanceof java.net.Inet4Address) outside = a;
            }
        }
        org.junit.jupiter.api.Assumptions.assumeTrue(outside != null, "no non-loopback IPv4 address on this machine");
        try (var s = new java.net.Socket()) {
            java.net.InetAddress target = outside;
            var e = org.junit.jupiter.api.Assertions.assertThrows(IOException.class,
                    () -> s.connect(new java.net.InetSocketAddress(target, port), 5000));
            assertTrue(e instanceof java.net.ConnectException, "refused, not " + e);
        }
        assertEquals(200, get("/q/health/ready", null).statusCode(), "reachable on 127.0.0.1");
    }

    @Test
    void tokenCreateThroughTheCliGivesAWorkingTokenWithOnlyItsRole() throws Exception {
        Map<String, String> env = Map.of("AMALGAM_TOKEN", adminToken());
        Result r = runCli(env, "token", "create", "--name", "release-bot", "--roles", "submitter",
                "--server", "http://127.0.0.1:" + port);
        assertEquals(0, r.code, r.err);
        String token = r.out.strip();
        assertTrue(token.startsWith("amg_"), r.out);
        assertEquals(200, get("/api/v1/info", token).statusCode());
        HttpResponse<String> forbidden = get("/api/v1/tokens", token);
        assertEquals(403, forbidden.statusCode());
        assertTrue(forbidden.headers().firstValue("Content-Type").orElse("").startsWith("application/problem+json"));

        Result list = runCli(env, "token", "list", "--server", "http://127.0.0.1:" + port);
        assertEquals(0, list.code, list.err);
        assertTrue(list.out.contains("release-bot") && list.out.contains("submitter"), list.out);
        assertFalse(list.out.contains(token), "tokens are never listed");
    }

    @Test
    void theWholeStoryThroughTheCli(@TempDir Path tmp) throws Exception {
        String server = "http://127.0.0.1:" + port;
        Map<String, String> admin = Map.of("AMALGAM_TOKEN", adminToken());
        String submitter = runCli(admin, "token", "create", "--name", "alice", "--roles", "submitter", "--server", server).out.strip();
        String reviewer = runCli(admin, "token", "create", "--name", "bob", "--roles", "reviewer,deployer", "--server", server).out.strip();
        Map<String, String> asAlice = Map.of("AMALGAM_TOKEN", submitter);
        Map<String, String> asBob = Map.of("AMALGAM_TOKEN", reviewer);

        Result base = runCli(Map.of(), "sample-model", tmp.resolve("base").toString(), "--arch", "llama", "--layers", "2",
                "--hidden", "32", "--intermediate", "64", "--vocab", "128", "--seed", "1");
        assertEquals(0, base.code, base.err);
        Result ft = runCli(Map.of(), "sample-model", tmp.resolve("ft").toString(), "--arch", "llama", "--layers", "2",
                "--hidden", "32", "--intermediate", "64", "--vocab", "128", "--seed", "2", "--like", tmp.resolve("base").toString(),
                "--delta-scale", "0.01");
        assertEquals(0, ft.code, ft.err);
        Result r1 = runCli(asAlice, "models", "register", tmp.resolve("base").toString(), "--name", "base", "--version", "1",
                "--license", "apache-2.0", "--server", server);
        assertEquals(0, r1.code, r1.err);
        assertTrue(r1.out.contains("base@1 sha256:"), r1.out);
        // the same content again: said so, whether the request matches the model (0) or not (refused)
        Result again = runCli(asAlice, "models", "register", tmp.resolve("base").toString(), "--name", "base", "--version", "1",
                "--license", "apache-2.0", "--server", server);
        assertEquals(0, again.code, again.err);
        assertTrue(again.err.contains("already registered: identical content"), again.err);
        Result renamed = runCli(asAlice, "models", "register", tmp.resolve("base").toString(), "--name", "base-copy",
                "--version", "1", "--license", "apache-2.0", "--server", server);
        assertTrue(renamed.code != 0, renamed.out);
        assertTrue(renamed.err.contains("already registered as base@1") && renamed.err.contains("nothing was registered as base-copy@1"),
                renamed.err);
        Result r2 = runCli(asAlice, "models", "register", tmp.resolve("ft").toString(), "--name", "ft", "--version", "1",
                "--license", "mit", "--server", server);
        assertEquals(0, r2.code, r2.err);

        Path recipe = Files.writeString(tmp.resolve("merge.yml"), """
                merge_method: linear
                models:
                  - model: base@1
                    parameters: {weight: 0.6}
                  - model: ft@1
                    parameters: {weight: 0.4}
                dtype: bfloat16
                """);
        Result submit = runCli(asAlice, "merges", "submit", recipe.toString(), "--name", "acme-merge", "--version", "1",
                "--wait", "--server", server);
        assertEquals(0, submit.code, submit.out + submit.err);
        String id = submit.out.lines().findFirst().orElseThrow().split(" ")[1];

        Result own = runCli(asAlice, "merges", "review", id, "approve", "--server", server);
        assertEquals(1, own.code);
        assertTrue(own.err.contains("403"), own.err);
        Result review = runCli(asBob, "merges", "review", id, "approve", "--comment", "licenses checked", "--server", server);
        assertEquals(0, review.code, review.err);
        Result reproduce = runCli(asAlice, "merges", "reproduce", id, "--server", server);
        assertEquals(0, reproduce.code, reproduce.err);
        assertTrue(reproduce.out.startsWith("identical"), reproduce.out);

        Result lineage = runCli(asBob, "lineage", "acme-merge@1", "--server", server);
        assertEquals(0, lineage.code, lineage.err);
        assertTrue(lineage.out.contains("base@1") && lineage.out.contains("ft@1"), lineage.out);

        Result gate = runCli(asBob, "gate", "acme-merge@1", "--env", "production", "--server", server);
        assertTrue(gate.code == 0 || gate.code == 1, gate.err);
        assertTrue(gate.out.contains("license") && gate.out.contains("review"), gate.out);
        assertTrue(gate.out.lines().anyMatch(l -> l.contains("review") && l.trim().startsWith("pass")), gate.out);
    }

    /** Lose the whole H2 database: the next start rebuilds it from the ledger alone. */
    @Test
    void aLostDatabaseIsRebuiltFromTheLedgerOnStart(@TempDir Path tmp) throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(PG_URL == null, "H2 only: the database is a folder to delete");
        Path dataDir = tmp.resolve("data");
        int p = freePort();
        Map<String, String> env = Map.of("AMALGAM_DATA", dataDir.toString(), "AMALGAM_PORT", Integer.toString(p));
        Process s1 = start(env, tmp.resolve("s1.log"), "serve");
        String server = "http://127.0.0.1:" + p;
        awaitReady(s1, p, tmp.resolve("s1.log"));
        Map<String, String> admin = Map.of("AMALGAM_TOKEN", Files.readString(dataDir.resolve("keys/admin.token")).strip());
        assertEquals(0, runCli(Map.of(), "sample-model", tmp.resolve("m").toString(), "--arch", "llama", "--layers", "1",
                "--hidden", "16", "--intermediate", "32", "--vocab", "64", "--seed", "5").code);
        Result reg = runCli(admin, "models", "register", tmp.resolve("m").toString(), "--name", "keeper", "--version", "1",
                "--license", "mit", "--server", server);
        assertEquals(0, reg.code, reg.err);
        s1.destroy();
        assertTrue(s1.waitFor(30, TimeUnit.SECONDS));
        try (var files = Files.walk(dataDir.resolve("db"))) {
            for (Path f : files.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(f);
        }
        Process s2 = start(env, tmp.resolve("s2.log"), "serve");
        try {
            awaitReady(s2, p, tmp.resolve("s2.log"));
            // the old admin principal is gone with the database: a new admin token was written
            Map<String, String> admin2 = Map.of("AMALGAM_TOKEN", Files.readString(dataDir.resolve("keys/admin.token")).strip());
            Result list = runCli(admin2, "models", "list", "--server", server);
            assertEquals(0, list.code, list.err);
            assertTrue(list.out.contains("keeper@1"), list.out);
            Result audit = runCli(admin2, "audit", "--server", server);
            assertTrue(audit.out.contains("clean"), audit.out + audit.err);
        } finally {
            s2.destroy();
            s2.waitFor(30, TimeUnit.SECONDS);
        }
    }

    private static void awaitReady(Process server, int p, Path log) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (true) {
            assertTrue(server.isAlive(), "server exited: " + Files.readString(log));
            try {
                HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + p + "/q/health/ready"))
                        .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) return;
            } catch (IOException notYet) {
                // starting
            }
            assertTrue(System.nanoTime() < deadline, "not ready: " + Files.readString(log));
            Thread.sleep(250);
        }
    }

    @Test
    void cliCommandsDoNotNeedTheServerPortOrDatabase() throws Exception {
        Result r = runCli(Map.of(), "--version");
        assertEquals(0, r.code, r.err);
        assertTrue(r.out.startsWith("amalgam "), r.out);
        Result help = runCli(Map.of(), "--help");
        assertEquals(0, help.code);
        assertTrue(help.out.contains("serve") && help.out.contains("token"), help.out);
    }

    @Test
    void secondServerOnTheSameDataOrPortFailsInOneLine() throws Exception {
        Map<String, String> env = new HashMap<>(serverEnv);
        Result samePort = runCli(env, "serve");
        assertEquals(1, samePort.code);
        assertOneLine(samePort, "port " + port);
        if (PG_URL == null) {
            env.put("AMALGAM_PORT", Integer.toString(freePort()));
            Result sameData = runCli(env, "serve");
            assertEquals(1, sameData.code);
            assertOneLine(sameData, "cannot open the database");
        }
    }

    @Test
    void badConfigurationFailsInOneLine(@TempDir Path tmp) throws Exception {
        Result unwritable = runCli(Map.of("AMALGAM_DATA", "/proc/amalgam-it"), "serve");
        assertEquals(1, unwritable.code);
        assertOneLine(unwritable, "data directory /proc/amalgam-it");

        Result wrongDb = runCli(Map.of("AMALGAM_DATA", tmp.toString(), "AMALGAM_PORT", Integer.toString(freePort()),
                "AMALGAM_DB_URL", "jdbc:postgresql://127.0.0.1:1/none"), "serve");
        assertEquals(1, wrongDb.code);
        assertOneLine(wrongDb, "cannot open the database");

        Result badPort = runCli(Map.of("AMALGAM_DATA", tmp.toString(), "AMALGAM_PORT", "eighty"), "serve");
        assertEquals(1, badPort.code);
        assertOneLine(badPort, "AMALGAM_PORT");
    }

    @Test
    void launcherRunsTheAppWithJdk25WhenTheDefaultJavaIs17() throws Exception {
        Path jdk17 = Path.of("/usr/lib/jvm/java-17-openjdk-amd64/bin");
        String path = (Files.isDirectory(jdk17) ? jdk17 + ":" : "") + "/usr/bin:/bin";
        ProcessBuilder pb = new ProcessBuilder(Path.of("amalgam").toAbsolutePath().toString(), "--version");
        pb.environment().put("PATH", path);
        pb.environment().remove("JAVA_HOME");
        Result r = Result.of(pb.start());
        assertEquals(0, r.code, r.err);
        assertTrue(r.out.contains("Java 2") && r.out.startsWith("amalgam "), r.out);
    }

    // --- helpers

    private static void assertOneLine(Result r, String expected) {
        List<String> lines = new ArrayList<>();
        for (String l : r.err.strip().split("\n")) {
            // printed by the JVM at every start, before our code runs; cannot be silenced (BUILD-NOTES)
            if (!l.startsWith("WARNING: Using incubator modules")) lines.add(l);
        }
        assertEquals(1, lines.size(), "one line expected, got:\n" + r.err);
        assertTrue(lines.get(0).startsWith("amalgam: ") && lines.get(0).contains(expected), lines.get(0));
    }

    private static String adminToken() throws IOException {
        return Files.readString(data.resolve("keys/admin.token")).strip();
    }

    private static String pgUser() {
        String u = System.getenv("AMALGAM_TEST_PG_USER");
        return u == null ? "postgres" : u;
    }

    private static HttpResponse<String> get(String path, String token) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(10));
        if (token != null) b.header("Authorization", "Bearer " + token);
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static List<String> command(String... args) {
        List<String> cmd = new ArrayList<>(List.of(JAVA, "--add-modules=jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED", "-jar", APP.toString()));
        cmd.addAll(List.of(args));
        return cmd;
    }

    private static Process start(Map<String, String> env, Path log, String... args) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command(args)).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        clean(pb.environment());
        pb.environment().putAll(env);
        return pb.start();
    }

    private static final Path CHECKPOINTS = Path.of("target", "cli-checkpoints", java.util.UUID.randomUUID().toString())
            .toAbsolutePath();

    private static Result runCli(Map<String, String> env, String... args) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(command(args));
        clean(pb.environment());
        pb.environment().putAll(env);
        // each run's servers have their own ledgers: the CLI's checkpoint memory must not outlive the run
        pb.environment().putIfAbsent("AMALGAM_CHECKPOINTS", CHECKPOINTS.toString());
        return Result.of(pb.start());
    }

    /** No configuration leaks in from the developer's environment. */
    private static void clean(Map<String, String> env) {
        env.keySet().removeIf(k -> k.startsWith("AMALGAM_"));
    }

    record Result(int code, String out, String err) {
        static Result of(Process p) throws Exception {
            var out = p.getInputStream();
            var err = p.getErrorStream();
            var errText = new java.util.concurrent.CompletableFuture<String>();
            Thread t = Thread.ofVirtual().start(() -> {
                try {
                    errText.complete(new String(err.readAllBytes()));
                } catch (IOException e) {
                    errText.complete("");
                }
            });
            String o = new String(out.readAllBytes());
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), "process did not finish");
            t.join();
            return new Result(p.exitValue(), o, errText.get());
        }
    }
}
