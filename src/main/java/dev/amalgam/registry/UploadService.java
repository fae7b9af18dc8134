package dev.amalgam.registry;

import dev.amalgam.hub.HubException;
import dev.amalgam.hub.HubId;
import dev.amalgam.hub.HubSnapshot;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/**
 * Source-model registrations as they arrive: uploaded file parts or a tar stream, staged in the data
 * directory ({@code staging/}, emptied at every start) and registered from there, or a folder the server
 * reads itself under the configured import roots.
 */
@ApplicationScoped
public class UploadService {
    @Inject
    RegistryConfig config;

    @Inject
    RegistrationService registration;

    /** One uploaded file: the relative path it was sent under, and where the HTTP layer stored its bytes. */
    public record Part(String name, Path file) {
    }

    /** Registers the files of a multipart upload; a path sent twice, or one that escapes the model folder, is refused. */
    public RegistrationService.Registered registerParts(List<Part> parts, String name, String version, String license,
                                                        HubIntake.Request hub, Caller caller) throws IOException {
        Path stage = stagingFolder();
        try {
            Set<String> seen = new HashSet<>();
            for (Part part : parts) {
                ModelPath path = new ModelPath(part.name());
                if (!seen.add(path.value())) throw RegistryException.badRequest("file " + path.value() + " sent twice");
                Path target = path.resolveIn(stage);
                Files.createDirectories(target.getParent());
                Files.move(part.file(), target, StandardCopyOption.REPLACE_EXISTING);
            }
            FaultPoints.at("upload.staged");
            return registration.register(stage, source(name, version, license), hub, caller.name());
        } finally {
            Folders.deleteTree(stage);
        }
    }

    /** Registers a model sent as a tar stream of its folder, counted against the upload limit as it is read. */
    public RegistrationService.Registered registerTar(InputStream body, String name, String version, String license,
                                                      HubIntake.Request hub, Caller caller) throws IOException {
        // the license may come from the model card: checked once the folder is read
        RegistrationService.validate(source(name, version, license == null || license.isBlank() ? "-" : license));
        Path stage = stagingFolder();
        try {
            new TarExtractor(config.maxUploadBytes()).extract(body, stage);
            return registration.register(stage, source(name, version, license), hub, caller.name());
        } finally {
            Folders.deleteTree(stage);
        }
    }

    /**
     * Registers a folder on the server's disk; only under {@code AMALGAM_IMPORT_ROOTS}. The folder may be a Hugging
     * Face cache folder ({@code models--ORG--NAME}, {@code revision} a commit or ref, default {@code main}) or one of
     * its snapshots; name, version and license then default to ORG/NAME, the commit and the card's license.
     */
    public RegistrationService.Registered importFolder(String path, String name, String version, String license,
                                                       String revision, HubIntake.Request hub, Caller caller) throws IOException {
        Path dir = ImportRoots.parse(config.importRoots()).admit(path);
        if (!HubSnapshot.isCacheLayout(dir)) {
            if (revision != null) {
                throw RegistryException.badRequest("revision applies to a Hugging Face cache folder (models--ORG--NAME); "
                        + path + " is a plain folder: name its source instead");
            }
            return registration.register(dir, source(name, version, license), hub, caller.name());
        }
        HubSnapshot snapshot;
        try {
            snapshot = HubSnapshot.open(dir, revision);
        } catch (HubException e) {
            throw RegistryException.badRequest(e.getMessage());
        }
        HubId id = snapshot.id().orElseThrow();
        Path stage = stagingFolder();
        try {
            snapshot.materialize(stage);
            return registration.register(stage, source(name == null ? id.repo() : name,
                            version == null ? id.revision() : version, license),
                    new HubIntake.Request(id.source(), hub.licenseOverride()), caller.name());
        } finally {
            Folders.deleteTree(stage);
        }
    }

    private static RegistrationService.Metadata source(String name, String version, String license) {
        return new RegistrationService.Metadata(name, version, license, "source", "registered");
    }

    private Path stagingFolder() throws IOException {
        return Files.createDirectories(config.settings().dataDir().resolve(DataDirectory.STAGING).resolve(UUID.randomUUID().toString()));
    }
}
