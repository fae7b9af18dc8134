package dev.amalgam.provenance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.List;

/** in-toto Statement v1 with the OMS predicate: building it from a manifest and reading it back. */
public final class Statements {
    public static final String STATEMENT_TYPE = "https://in-toto.io/Statement/v1";
    public static final String PREDICATE_TYPE = "https://model_signing/signature/v1.0";
    /** The predicate of model_signing 0.2: digests as subjects, nothing in the predicate. */
    public static final String LEGACY_PREDICATE_TYPE = "https://model_signing/Digests/v0.1";
    static final ObjectMapper JSON = new ObjectMapper();

    private Statements() {
    }

    public static ObjectNode of(Manifest m) {
        ObjectNode st = JSON.createObjectNode();
        st.put("_type", STATEMENT_TYPE);
        ObjectNode subject = st.putArray("subject").addObject();
        subject.put("name", m.modelName());
        subject.putObject("digest").put("sha256", m.rootDigest());
        st.put("predicateType", PREDICATE_TYPE);
        ObjectNode pred = st.putObject("predicate");
        pred.set("serialization", m.serialization().toJson());
        ArrayNode res = pred.putArray("resources");
        for (Manifest.Resource r : m.resources()) {
            res.addObject().put("name", r.name()).put("algorithm", "sha256").put("digest", r.digest());
        }
        return st;
    }

    /**
     * The manifest a statement claims, after checking its shape and that the subject digest is
     * the root digest of its resources in payload order.
     */
    public static Manifest read(JsonNode st) throws VerificationException {
        if (st == null || !st.isObject()) throw new VerificationException("payload is not a JSON object");
        if (!STATEMENT_TYPE.equals(st.path("_type").asText())) {
            throw new VerificationException("payload is not an in-toto Statement v1 (_type " + st.path("_type") + ")");
        }
        JsonNode subjects = st.get("subject");
        if (subjects == null || !subjects.isArray() || subjects.isEmpty()) throw new VerificationException("statement has no subject");
        String predicateType = st.path("predicateType").asText();
        if (predicateType.equals(LEGACY_PREDICATE_TYPE)) return legacy(subjects);
        if (!predicateType.equals(PREDICATE_TYPE)) {
            throw new VerificationException("unexpected predicate type '" + predicateType + "' (expected " + PREDICATE_TYPE + ")");
        }
        if (subjects.size() != 1) throw new VerificationException("statement must have exactly one subject, has " + subjects.size());
        JsonNode subject = subjects.get(0);
        String claimed = subject.path("digest").path("sha256").asText("");
        if (!claimed.matches("[0-9a-f]{64}")) throw new VerificationException("subject has no sha256 digest");
        JsonNode pred = st.get("predicate");
        if (pred == null || !pred.isObject()) throw new VerificationException("statement has no predicate");
        Serialization ser;
        try {
            ser = Serialization.fromJson(pred.get("serialization"));
        } catch (ProvenanceException e) {
            throw new VerificationException("predicate: " + e.getMessage());
        }
        JsonNode res = pred.get("resources");
        if (res == null || !res.isArray()) throw new VerificationException("predicate has no resources");
        List<Manifest.Resource> resources = new ArrayList<>();
        for (JsonNode r : res) {
            String alg = r.path("algorithm").asText();
            if (!alg.matches("sha256(-sharded-\\d+)?")) throw new VerificationException("unsupported resource algorithm '" + alg + "'");
            String d = r.path("digest").asText("");
            if (!d.matches("[0-9a-f]{64}")) throw new VerificationException("resource " + r.path("name") + " has no valid sha256 digest");
            resources.add(new Manifest.Resource(r.path("name").asText(), d));
        }
        String root = Manifest.rootDigest(resources);
        if (!root.equals(claimed)) {
            throw new VerificationException("tampered payload: the resources hash to sha256:" + root
                    + " but the subject claims sha256:" + claimed);
        }
        return new Manifest(subject.path("name").asText(), ser, resources);
    }

    private static Manifest legacy(JsonNode subjects) throws VerificationException {
        List<Manifest.Resource> resources = new ArrayList<>();
        for (JsonNode s : subjects) {
            String d = s.path("digest").path("sha256").asText("");
            if (!d.matches("[0-9a-f]{64}")) throw new VerificationException("subject " + s.path("name") + " has no sha256 digest");
            resources.add(new Manifest.Resource(s.path("name").asText(), d));
        }
        return new Manifest("", Serialization.files(List.of()), resources);
    }
}
