package dev.amalgam.bom;

import org.cyclonedx.Version;
import org.cyclonedx.exception.GeneratorException;
import org.cyclonedx.generators.BomGeneratorFactory;
import org.cyclonedx.model.Ancestors;
import org.cyclonedx.model.Bom;
import org.cyclonedx.model.Component;
import org.cyclonedx.model.Hash;
import org.cyclonedx.model.LicenseChoice;
import org.cyclonedx.model.Metadata;
import org.cyclonedx.model.Pedigree;
import org.cyclonedx.model.Property;
import org.cyclonedx.model.component.ModelCard;
import org.cyclonedx.model.component.modelCard.ModelParameters;
import org.cyclonedx.model.license.Expression;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.UUID;

/**
 * A CycloneDX 1.6 ML-BOM for one model, built with the CycloneDX Java library: the model as a
 * {@code machine-learning-model} component (its OMS root digest as the hash, the license
 * expression, the Hub source as a purl), its ancestors as pedigree by digest, the merge method and
 * parameters in the {@code modelCard}, and every file with its SHA-256. The same facts always give
 * the same bytes (serial number from the digest, timestamp the registration's), so it can be signed.
 */
public final class ModelBom {
    public static final Version VERSION = Version.VERSION_16;
    public static final String MEDIA_TYPE = "application/vnd.cyclonedx+json";
    /** The in-toto predicate type for a CycloneDX document. */
    public static final String PREDICATE_TYPE = "https://cyclonedx.org/bom";

    private ModelBom() {
    }

    /** The model the BOM describes. {@code rootDigest} is {@code sha256:<hex>}; {@code hubSource} may be null. */
    public record Subject(String name, String version, String rootDigest, String license, String origin,
                          String hubSource, Instant registeredAt) {
    }

    /** One file of the model. */
    public record FileEntry(String path, String sha256, long size) {
    }

    /** A model it descends from: {@code role} base, input or declared. */
    public record Ancestor(String name, String version, String rootDigest, String license, String role, String hubSource) {
    }

    /** How a merge made it; null for a source model. */
    public record Merge(String method, String methodReference, String recipe, Long seed) {
    }

    /** The BOM's JSON (pretty-printed). */
    public static String json(Subject subject, List<FileEntry> files, List<Ancestor> ancestors, Merge merge,
                              String toolVersion) {
        Bom bom = new Bom();
        bom.setSerialNumber("urn:uuid:" + UUID.nameUUIDFromBytes(subject.rootDigest().getBytes(StandardCharsets.UTF_8)));
        bom.setVersion(1);
        Metadata meta = new Metadata();
        meta.setTimestamp(Date.from(subject.registeredAt()));
        meta.setComponent(model(subject, ancestors, merge));
        meta.setProperties(List.of(new Property("amalgam:tool", "amalgam " + toolVersion)));
        bom.setMetadata(meta);
        List<Component> components = new ArrayList<>();
        for (FileEntry f : files) {
            Component c = new Component();
            c.setType(Component.Type.FILE);
            c.setBomRef("file:" + f.path());
            c.setName(f.path());
            c.setHashes(List.of(new Hash(Hash.Algorithm.SHA_256, f.sha256())));
            c.setProperties(List.of(new Property("amalgam:size", Long.toString(f.size()))));
            components.add(c);
        }
        bom.setComponents(components);
        try {
            return BomGeneratorFactory.createJson(VERSION, bom).toJsonString(true);
        } catch (GeneratorException e) {
            throw new IllegalStateException("CycloneDX generator: " + e.getMessage(), e);
        }
    }

    private static Component model(Subject s, List<Ancestor> ancestors, Merge merge) {
        Component c = component(s.name(), s.version(), s.rootDigest(), s.license(), s.hubSource());
        c.setType(Component.Type.MACHINE_LEARNING_MODEL);
        c.setDescription(("merge".equals(s.origin()) ? "Merged" : "Source") + " model " + s.name() + "@" + s.version()
                + "; its identity is the OpenSSF Model Signing root digest " + s.rootDigest());
        if (!ancestors.isEmpty()) {
            Pedigree p = new Pedigree();
            Ancestors a = new Ancestors();
            List<Component> list = new ArrayList<>();
            for (Ancestor an : ancestors) {
                Component ac = component(an.name(), an.version(), an.rootDigest(), an.license(), an.hubSource());
                ac.setType(Component.Type.MACHINE_LEARNING_MODEL);
                ac.setBomRef("ancestor:" + an.rootDigest());
                ac.setProperties(List.of(new Property("amalgam:role", an.role())));
                list.add(ac);
            }
            a.setComponents(list);
            p.setAncestors(a);
            c.setPedigree(p);
        }
        ModelCard card = new ModelCard();
        card.setBomRef("modelcard:" + s.rootDigest());
        ModelParameters params = new ModelParameters();
        List<Property> props = new ArrayList<>();
        if (merge != null) {
            props.add(new Property("amalgam:merge.method", merge.method()));
            if (merge.methodReference() != null) props.add(new Property("amalgam:merge.method.reference", merge.methodReference()));
            if (merge.seed() != null) props.add(new Property("amalgam:merge.seed", Long.toString(merge.seed())));
            props.add(new Property("amalgam:merge.recipe", merge.recipe()));
        } else {
            props.add(new Property("amalgam:origin", "source"));
        }
        card.setModelParameters(params);
        card.setProperties(props);
        c.setModelCard(card);
        return c;
    }

    private static Component component(String name, String version, String rootDigest, String license, String hubSource) {
        Component c = new Component();
        c.setBomRef(rootDigest);
        c.setName(name);
        c.setVersion(version);
        c.setHashes(List.of(new Hash(Hash.Algorithm.SHA_256, rootDigest.substring(rootDigest.indexOf(':') + 1))));
        if (license != null && !license.isBlank()) {
            LicenseChoice lc = new LicenseChoice();
            lc.setExpression(new Expression(license));
            c.setLicenses(lc);
        }
        if (hubSource != null && hubSource.startsWith("hf://")) {
            String id = hubSource.substring(5);
            int at = id.lastIndexOf('@');
            c.setPurl("pkg:huggingface/" + id.substring(0, at) + "@" + id.substring(at + 1));
        }
        return c;
    }
}
