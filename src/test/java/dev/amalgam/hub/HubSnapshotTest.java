package dev.amalgam.hub;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Reading Hub cache snapshots: links resolved into blobs/, and every unsafe or broken layout refused. */
class HubSnapshotTest {
    @TempDir
    Path tmp;
    Path model;
    Path snapshot;

    @BeforeEach
    void cache() throws IOException {
        Path src = Files.createDirectories(tmp.resolve("src"));
        Files.writeString(src.resolve("config.json"), "{\"model_type\":\"llama\"}");
        Files.writeString(src.resolve("README.md"), "---\nlicense: mit\n---\n# card\n");
        Files.createDirectories(src.resolve("sub"));
        Files.write(src.resolve("sub/weights.bin"), new byte[] {1, 2, 3});
        model = HubCacheFixture.cache(tmp.resolve("hub"), "acme", "tiny-llm", HubCacheFixture.COMMIT, src);
        snapshot = model.resolve("snapshots").resolve(HubCacheFixture.COMMIT);
    }

    @Test
    void aModelFolderOpensTheSnapshotItsMainRefNames() throws IOException {
        HubSnapshot s = HubSnapshot.open(model, null);
        assertEquals("hf://acme/tiny-llm@" + HubCacheFixture.COMMIT, s.id().orElseThrow().source());
        assertEquals(java.util.List.of("README.md", "config.json", "sub/weights.bin"),
                s.files().stream().map(HubSnapshot.File::path).toList());
        for (HubSnapshot.File f : s.files()) {
            assertTrue(f.real().startsWith(model.toRealPath().resolve("blobs")), f.real().toString());
            assertFalse(Files.isSymbolicLink(f.real()));
        }
    }

    @Test
    void aSnapshotFolderNamesItsOwnCommit() {
        HubSnapshot s = HubSnapshot.open(snapshot, null);
        assertEquals("acme/tiny-llm@" + HubCacheFixture.COMMIT, s.id().orElseThrow().toString());
        assertTrue(HubSnapshot.isCacheLayout(snapshot));
        assertTrue(HubSnapshot.isCacheLayout(model));
    }

    @Test
    void materializeLeavesRegularFilesWithTheBlobsBytes() throws IOException {
        Path out = tmp.resolve("out");
        HubSnapshot.open(model, "main").materialize(out);
        assertFalse(Files.isSymbolicLink(out.resolve("sub/weights.bin")));
        assertArrayEquals(new byte[] {1, 2, 3}, Files.readAllBytes(out.resolve("sub/weights.bin")));
    }

    @Test
    void aLinkOutsideTheModelFolderIsRefused() throws IOException {
        Path secret = Files.writeString(tmp.resolve("secret.txt"), "not yours");
        Files.createSymbolicLink(snapshot.resolve("stolen.txt"), secret);
        HubException e = assertThrows(HubException.class, () -> HubSnapshot.open(model, null));
        assertTrue(e.getMessage().contains("stolen.txt links outside the model's folder"), e.getMessage());
    }

    @Test
    void aLinkIntoAnotherModelOfTheSameCacheIsRefused() throws IOException {
        Path other = Files.createDirectories(tmp.resolve("hub/models--acme--other/blobs"));
        Path blob = Files.writeString(other.resolve("abc"), "x");
        Files.createSymbolicLink(snapshot.resolve("borrowed.txt"), snapshot.relativize(blob));
        assertThrows(HubException.class, () -> HubSnapshot.open(model, null));
    }

    @Test
    void aDanglingLinkIsRefused() throws IOException {
        Files.createSymbolicLink(snapshot.resolve("gone.bin"), Path.of("../../blobs/0000"));
        HubException e = assertThrows(HubException.class, () -> HubSnapshot.open(model, null));
        assertTrue(e.getMessage().contains("gone.bin is a dangling link"), e.getMessage());
    }

    @Test
    void aLoopingLinkIsRefused() throws IOException {
        Files.createSymbolicLink(snapshot.resolve("a"), Path.of("b"));
        Files.createSymbolicLink(snapshot.resolve("b"), Path.of("a"));
        HubException e = assertThrows(HubException.class, () -> HubSnapshot.open(model, null));
        assertTrue(e.getMessage().contains("cannot be resolved"), e.getMessage());
    }

    @Test
    void aLinkToAFolderIsRefusedNotFollowed() throws IOException {
        Files.createSymbolicLink(snapshot.resolve("blobs-dir"), Path.of("../../blobs"));
        HubException e = assertThrows(HubException.class, () -> HubSnapshot.open(model, null));
        assertTrue(e.getMessage().contains("links to a folder"), e.getMessage());
    }

    @Test
    void aMissingSnapshotNamesTheOnesPresent() throws IOException {
        Files.writeString(model.resolve("refs/main"), "f".repeat(40));
        HubException e = assertThrows(HubException.class, () -> HubSnapshot.open(model, null));
        assertTrue(e.getMessage().contains("missing snapshot") && e.getMessage().contains(HubCacheFixture.COMMIT),
                e.getMessage());
    }

    @Test
    void refsAreCheckedAndConfinedToRefs() throws IOException {
        assertThrows(HubException.class, () -> HubSnapshot.open(model, "no-such-branch"));
        assertThrows(HubException.class, () -> HubSnapshot.open(model, "../blobs/x"));
        Files.writeString(model.resolve("refs/broken"), "not a commit");
        HubException e = assertThrows(HubException.class, () -> HubSnapshot.open(model, "broken"));
        assertTrue(e.getMessage().contains("does not hold a commit hash"), e.getMessage());
        Files.createSymbolicLink(model.resolve("refs/linked"), model.resolve("refs/main"));
        assertThrows(HubException.class, () -> HubSnapshot.open(model, "linked"));
        assertEquals(HubCacheFixture.COMMIT, HubSnapshot.open(model, HubCacheFixture.COMMIT).id().orElseThrow().revision());
    }

    @Test
    void aSnapshotFolderRefusesAnotherRevision() {
        assertThrows(HubException.class, () -> HubSnapshot.open(snapshot, "e".repeat(40)));
    }

    @Test
    void aPlainFolderHasNoIdentityAndSkipsHubClientMetadata() throws IOException {
        Path plain = Files.createDirectories(tmp.resolve("plain"));
        Files.writeString(plain.resolve("config.json"), "{}");
        Files.createDirectories(plain.resolve(".cache/huggingface/download"));
        Files.writeString(plain.resolve(".cache/huggingface/download/config.json.metadata"), HubCacheFixture.COMMIT);
        HubSnapshot s = HubSnapshot.open(plain, null);
        assertTrue(s.id().isEmpty());
        assertEquals(java.util.List.of("config.json"), s.files().stream().map(HubSnapshot.File::path).toList());
        assertFalse(HubSnapshot.isCacheLayout(plain));
        assertThrows(HubException.class, () -> HubSnapshot.open(plain, "main"));
    }

    @Test
    void aCacheFolderWithoutOrganisationIsRefused() throws IOException {
        Path legacy = Files.createDirectories(tmp.resolve("hub/models--gpt2/snapshots/" + HubCacheFixture.COMMIT));
        HubException e = assertThrows(HubException.class, () -> HubSnapshot.open(legacy, null));
        assertTrue(e.getMessage().contains("ORG/NAME"), e.getMessage());
    }

    @Test
    void hubIdsParseAndRefuseBadParts() {
        assertEquals("hf://a/b@main", HubId.parse("hf://a/b@main").source());
        assertFalse(HubId.parse("a/b").pinned());
        assertTrue(HubId.parse("a/b@" + HubCacheFixture.COMMIT).pinnedToCommit());
        for (String bad : new String[] {"a", "a/b/c", "../b", "a/b@", "a/..", "/b", "a/b@x y"}) {
            assertThrows(HubException.class, () -> HubId.parse(bad), bad);
        }
    }
}
