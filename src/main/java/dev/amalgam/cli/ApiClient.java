package dev.amalgam.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.PrintStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * The CLI's way to a running registry: JSON over HTTP with the caller's bearer token. Refusals
 * (problem+json) become one-line {@link CliException}s carrying the server's reasons.
 */
final class ApiClient {
    static final ObjectMapper JSON = new ObjectMapper();
    private final URI base;
    private final String token;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    ApiClient(URI base, String token) {
        this.base = base;
        this.token = token;
    }

    /**
     * Server from --server, else AMALGAM_SERVER, else localhost:8080; token from AMALGAM_TOKEN,
     * or, only when that is unset, the local admin token (see {@link #token}).
     */
    static ApiClient fromEnvironment(String server) {
        String url = server != null ? server : envOr("AMALGAM_SERVER", "http://localhost:" + envOr("AMALGAM_PORT", "8080"));
        URI uri;
        try {
            uri = URI.create(url.endsWith("/") ? url.substring(0, url.length() - 1) : url);
            if (uri.getScheme() == null || !uri.getScheme().startsWith("http")) throw new IllegalArgumentException();
        } catch (IllegalArgumentException e) {
            throw new CliException(CliException.UNUSABLE, "invalid server URL '" + url + "' (expected http://HOST:PORT)");
        }
        return new ApiClient(uri, token(System.getenv(), System.err));
    }

    /**
     * The caller's token. An unset AMALGAM_TOKEN falls back to the admin token of the local data
     * directory, said on {@code err}; a set but empty one is an error: a failed
     * {@code $(amalgam token create ...)} must not turn into acting as admin (and the ledger
     * recording admin approving admin).
     */
    static String token(Map<String, String> env, PrintStream err) {
        String t = env.get("AMALGAM_TOKEN");
        if (t != null) {
            if (t.isBlank()) {
                throw new CliException(CliException.UNUSABLE, "AMALGAM_TOKEN is set but empty (did the command that"
                        + " should have filled it fail?); set a token, or unset AMALGAM_TOKEN to use the local admin token");
            }
            return t.strip();
        }
        String data = env.getOrDefault("AMALGAM_DATA", "");
        if (data.isBlank()) data = "./amalgam-data";
        Path local = Path.of(data, "keys", "admin.token");
        try {
            if (Files.isReadable(local)) {
                String admin = Files.readString(local).strip();
                if (!admin.isEmpty()) {
                    err.println("amalgam: using the local admin token of " + data + " (AMALGAM_TOKEN is unset)");
                    return admin;
                }
            }
        } catch (IOException e) {
            // fall through: no token
        }
        throw new CliException(CliException.UNUSABLE,
                "no API token: set AMALGAM_TOKEN (an admin's first token is in <data dir>/keys/admin.token; none at " + local + ")");
    }

    private static String envOr(String name, String def) {
        String v = System.getenv(name);
        return v == null || v.isBlank() ? def : v;
    }

    URI base() {
        return base;
    }

    JsonNode get(String path) {
        return send(request(path).GET().build());
    }

    JsonNode post(String path, Object body) {
        try {
            return send(request(path).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body))).build());
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** POST of a text body (a YAML recipe). */
    JsonNode postText(String path, String contentType, String body) {
        return send(request(path).header("Content-Type", contentType)
                .POST(HttpRequest.BodyPublishers.ofString(body)).build());
    }

    /** A successful answer with its status: 201 and 200 mean different things for a registration. */
    record Answer(int status, JsonNode body) {
    }

    Answer postMultipart(String path, MultipartBody body) {
        HttpResponse<byte[]> resp = exchange(request(path).header("Content-Type", body.contentType())
                .POST(body.publisher()).timeout(Duration.ofHours(12)).build());
        JsonNode json = parse(resp.body());
        if (resp.statusCode() >= 400) throw refusal(resp.statusCode(), json);
        return new Answer(resp.statusCode(), json);
    }

    /** GET of a text representation (DOT, Mermaid, ...). */
    String getText(String path, String accept) {
        HttpRequest req = request(path).header("Accept", accept).GET().build();
        HttpResponse<byte[]> resp = exchange(req);
        if (resp.statusCode() >= 400) throw refusal(resp.statusCode(), parse(resp.body()));
        return new String(resp.body(), StandardCharsets.UTF_8);
    }

    JsonNode delete(String path) {
        return send(request(path).DELETE().build());
    }

    private HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofMinutes(5))
                .header("Authorization", "Bearer " + token).header("Accept", "application/json");
    }

    private JsonNode send(HttpRequest req) {
        HttpResponse<byte[]> resp = exchange(req);
        JsonNode body = parse(resp.body());
        if (resp.statusCode() >= 400) throw refusal(resp.statusCode(), body);
        return body;
    }

    private HttpResponse<byte[]> exchange(HttpRequest req) {
        try {
            return http.send(req, HttpResponse.BodyHandlers.ofByteArray());
        } catch (ConnectException e) {
            throw new CliException("cannot reach the registry at " + base + " (is `amalgam serve` running?)");
        } catch (IOException e) {
            throw new CliException("request to " + base + " failed: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException("interrupted");
        }
    }

    private static CliException refusal(int status, JsonNode body) {
        StringBuilder msg = new StringBuilder("registry refused (" + status + ")");
        if (body != null && body.hasNonNull("detail")) msg.append(": ").append(body.get("detail").asText());
        if (body != null && body.has("errors")) {
            for (JsonNode e : body.get("errors")) msg.append("\n  - ").append(e.asText());
        }
        return new CliException(msg.toString());
    }

    private static JsonNode parse(byte[] b) {
        if (b == null || b.length == 0) return null;
        try {
            return JSON.readTree(b);
        } catch (IOException e) {
            return null;
        }
    }
}
