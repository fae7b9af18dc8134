package dev.amalgam.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.amalgam.hub.HubException;
import dev.amalgam.hub.HubId;
import dev.amalgam.hub.HubSnapshot;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/** {@code amalgam models register|import|list|show}: source models on a running registry. */
@Command(name = "models", mixinStandardHelpOptions = true,
        description = "Register and inspect models on a running registry.",
        subcommands = {ModelsCommand.Register.class, ModelsCommand.Import.class,
                ModelsCommand.ListModels.class, ModelsCommand.Show.class},
        footer = {"", "Examples:", "  amalgam models register ./my-model --name my-model --version 1 --license apache-2.0",
                "  amalgam models register ~/.cache/huggingface/hub/models--ORG--NAME --revision main"})
final class ModelsCommand {


    /** What the server-side import takes besides the path. */
    static class Identity extends ServerOption {
        @Option(names = "--name", description = "Model name, e.g. llama-3.1-8b-instruct (a Hub cache: default ORG/NAME).")
        String name;

        @Option(names = "--version", description = "Model version, e.g. 1 or 2024-07-23 (a Hub cache: default the commit).")
        String version;

        @Option(names = "--license",
                description = "License: a Hugging Face license id or an SPDX expression (default: the model card's).")
        String license;

        @Option(names = "--revision", paramLabel = "REV",
                description = "For a Hub cache folder: the commit or ref to register (default: main).")
        String revision;

        @Option(names = "--source", paramLabel = "ORG/NAME@REVISION",
                description = "For a plain downloaded repository: the Hub repository and commit it came from.")
        String source;

        @Option(names = "--override-card-license", paramLabel = "REASON",
                description = "Register under --license although the model card says otherwise; the reason is recorded in the ledger.")
        String overrideCardLicense;
    }

    @Command(name = "register", mixinStandardHelpOptions = true,
            description = {"Upload a model folder and register it (its model.sig, if present, is sent as the"
                    + " publisher signature).", "Files are streamed, never read into memory.",
                    "DIR may be a Hugging Face cache folder (models--ORG--NAME, --revision picks the snapshot) or"
                    + " one of its snapshots: links into blobs/ are resolved safely, name and version default to"
                    + " ORG/NAME and the commit, and the source hf://ORG/NAME@COMMIT is recorded.",
                    "The license defaults to the model card's (README.md front matter); a --license that disagrees"
                    + " with the card is refused unless --override-card-license gives a reason."})
    static final class Register extends ServerOption implements Callable<Integer> {
        @Parameters(paramLabel = "DIR", description = "The model folder, a Hub cache folder or a Hub snapshot.")
        Path dir;

        @Option(names = "--name", description = "Model name (required for a plain folder; a Hub cache: ORG/NAME).")
        String name;

        @Option(names = "--version", description = "Model version (required for a plain folder; a Hub cache: the commit).")
        String version;

        @Option(names = "--license", description = "License: a Hugging Face license id or an SPDX expression"
                + " (default: the model card's).")
        String license;

        @Option(names = "--revision", paramLabel = "REV",
                description = "For a Hub cache folder: the commit or ref (refs/REV) to register (default: main).")
        String revision;

        @Option(names = "--source", paramLabel = "ORG/NAME@REVISION",
                description = "For a plain downloaded repository: the Hub repository and commit it came from.")
        String source;

        @Option(names = "--override-card-license", paramLabel = "REASON",
                description = "Register under --license although the model card says otherwise; the reason is recorded in the ledger.")
        String overrideCardLicense;

        @Override
        public Integer call() throws IOException {
            if (!Files.isDirectory(dir)) throw new CliException(CliException.UNUSABLE, "not a folder: " + dir);
            HubSnapshot snapshot = null;
            String src = source;
            if (HubSnapshot.isCacheLayout(dir)) {
                try {
                    snapshot = HubSnapshot.open(dir, revision);
                } catch (HubException e) {
                    throw new CliException(CliException.UNUSABLE, e.getMessage());
                }
                HubId id = snapshot.id().orElseThrow();
                if (source != null && !source.isBlank() && !HubId.parse(source).toString().equals(id.toString())) {
                    throw new CliException(CliException.UNUSABLE, "--source " + source + " disagrees with the cache, which holds "
                            + id);
                }
                src = id.source();
                if (name == null) name = id.repo();
                if (version == null) version = id.revision();
            } else if (revision != null) {
                throw new CliException(CliException.UNUSABLE, "--revision applies to a Hugging Face cache folder"
                        + " (models--ORG--NAME); for a plain folder give --source ORG/NAME@REVISION");
            }
            if (name == null || version == null) {
                throw new CliException(CliException.UNUSABLE, "--name and --version are required for a plain folder");
            }
            if (src != null && !src.isBlank()) {
                try {
                    HubId id = HubId.parse(src);
                    if (!id.pinned()) {
                        throw new CliException(CliException.UNUSABLE, "--source " + src + " names no revision: give ORG/NAME@REVISION");
                    }
                    src = id.source();
                } catch (HubException e) {
                    throw new CliException(CliException.UNUSABLE, "--source: " + e.getMessage());
                }
            }
            MultipartBody body = new MultipartBody().field("name", name).field("version", version);
            if (license != null) body.field("license", license);
            if (src != null) body.field("source", src);
            if (overrideCardLicense != null) body.field("licenseOverride", overrideCardLicense);
            long bytes = 0;
            List<Path> files = new ArrayList<>();
            if (snapshot != null) {
                for (HubSnapshot.File f : snapshot.files()) {
                    body.file(f.path(), f.real());
                    files.add(f.real());
                    bytes += Files.size(f.real());
                }
            } else {
                files = files(dir);
                for (Path f : files) {
                    body.file(dir.relativize(f).toString().replace('\\', '/'), f);
                    bytes += Files.size(f);
                }
            }
            System.err.printf("uploading %d files, %.1f MB...%n", files.size(), bytes / 1e6);
            ApiClient.Answer a = ApiClient.fromEnvironment(server).postMultipart("/api/v1/models", body);
            if (a.status() == 200) {
                System.err.println("already registered: identical content with this name, version and license;"
                        + " nothing new was recorded");
            }
            ModelsCommand.print(a.body());
            return 0;
        }
    }

    @Command(name = "import", mixinStandardHelpOptions = true,
            description = "Register a folder the server reads itself (only under its AMALGAM_IMPORT_ROOTS).")
    static final class Import extends Identity implements Callable<Integer> {
        @Parameters(paramLabel = "SERVER_PATH", description = "Absolute path of the folder on the server.")
        String path;

        @Override
        public Integer call() {
            Map<String, Object> req = new LinkedHashMap<>();
            req.put("path", path);
            req.put("name", name);
            req.put("version", version);
            req.put("license", license);
            req.put("revision", revision);
            req.put("source", source);
            req.put("licenseOverride", overrideCardLicense);
            ModelsCommand.print(ApiClient.fromEnvironment(server).post("/api/v1/models/import", req));
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List registered models.")
    static final class ListModels extends ServerOption implements Callable<Integer> {
        @Override
        public Integer call() {
            for (JsonNode m : ApiClient.fromEnvironment(server).get("/api/v1/models?limit=1000")) {
                System.out.printf("%-6s %-40s %-16s %-20s %s%n", m.get("id").asText(),
                        m.get("name").asText() + "@" + m.get("version").asText(), m.get("status").asText(),
                        m.get("license").asText(), m.get("rootDigest").asText());
            }
            return 0;
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "Show one model.")
    static final class Show extends ServerOption implements Callable<Integer> {
        @Parameters(paramLabel = "MODEL", description = "id, NAME@VERSION or sha256:DIGEST")
        String model;

        @Override
        public Integer call() throws IOException {
            JsonNode m = ApiClient.fromEnvironment(server).get("/api/v1/models/" + encode(model));
            System.out.println(ApiClient.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(m));
            return 0;
        }
    }

    static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    static void print(JsonNode m) {
        System.out.println(m.get("name").asText() + "@" + m.get("version").asText() + " " + m.get("rootDigest").asText()
                + " (id " + m.get("id").asText() + ", " + m.get("status").asText() + ")");
    }

    /** Regular files under dir, sorted; symlinks are refused rather than followed. */
    static List<Path> files(Path dir) throws IOException {
        List<Path> out = new ArrayList<>();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) s.sorted()::iterator) {
                if (Files.isSymbolicLink(p)) {
                    throw new CliException(CliException.UNUSABLE, "symbolic link in the model folder: " + p
                            + " (copy the file in instead)");
                }
                Path rel = dir.relativize(p);
                if (rel.getNameCount() > 0 && rel.getName(0).toString().equals(".git")) continue;
                if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) out.add(p);
            }
        }
        return out;
    }
}
