package dev.amalgam.provenance;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.security.PrivateKey;
import java.time.Instant;
import java.util.Base64;
import java.util.List;

/**
 * SLSA provenance v1 for a merge: subject = the output's OMS root digest, resolved dependencies =
 * the inputs' root digests, external parameters = the normalised recipe, builder = this Amalgam
 * version. Signed as a DSSE envelope ({@code provenance.intoto.json}).
 */
public final class SlsaProvenance {
    public static final String PREDICATE_TYPE = "https://slsa.dev/provenance/v1";
    public static final String BUILD_TYPE = "https://amalgam.dev/merge/v1";
    public static final String FILE_NAME = "provenance.intoto.json";

    private SlsaProvenance() {
    }

    /** One input of the merge: the name the recipe used, where it came from, its root digest (hex). */
    public record Input(String name, String uri, String rootDigest) {
    }

    public static ObjectNode forMerge(String outputName, String outputRootDigest, List<Input> inputs, String recipeYaml,
                                      long seed, String engineVersion, Instant startedOn, Instant finishedOn) {
        ObjectNode st = Statements.JSON.createObjectNode();
        st.put("_type", Statements.STATEMENT_TYPE);
        ObjectNode subject = st.putArray("subject").addObject();
        subject.put("name", outputName);
        subject.putObject("digest").put("sha256", outputRootDigest);
        st.put("predicateType", PREDICATE_TYPE);
        ObjectNode pred = st.putObject("predicate");
        ObjectNode def = pred.putObject("buildDefinition");
        def.put("buildType", BUILD_TYPE);
        def.putObject("externalParameters").put("recipe", recipeYaml);
        ObjectNode internal = def.putObject("internalParameters");
        internal.put("seed", seed);
        internal.put("engine", engineVersion);
        ArrayNode deps = def.putArray("resolvedDependencies");
        for (Input in : inputs) {
            ObjectNode d = deps.addObject();
            d.put("name", in.name());
            if (in.uri() != null) d.put("uri", in.uri());
            d.putObject("digest").put("sha256", in.rootDigest());
        }
        ObjectNode run = pred.putObject("runDetails");
        ObjectNode builder = run.putObject("builder");
        builder.put("id", "https://amalgam.dev/amalgam@" + engineVersion);
        builder.putObject("version").put("amalgam", engineVersion);
        ObjectNode meta = run.putObject("metadata");
        meta.put("startedOn", startedOn.toString());
        meta.put("finishedOn", finishedOn.toString());
        return st;
    }

    /**
     * An SLSA verification summary (https://slsa.dev/verification_summary/v1) of a release-gate
     * decision: which model, which policy (by digest), passed or failed, by which verifier.
     */
    public static ObjectNode verificationSummary(String modelName, String rootDigestHex, String resourceUri,
                                                 String policyUri, String policyDigestHex, boolean passed,
                                                 String verifierVersion, Instant when) {
        ObjectNode st = Statements.JSON.createObjectNode();
        st.put("_type", Statements.STATEMENT_TYPE);
        ObjectNode subject = st.putArray("subject").addObject();
        subject.put("name", modelName);
        subject.putObject("digest").put("sha256", rootDigestHex);
        st.put("predicateType", "https://slsa.dev/verification_summary/v1");
        ObjectNode pred = st.putObject("predicate");
        pred.putObject("verifier").put("id", "https://amalgam.dev/amalgam@" + verifierVersion);
        pred.put("timeVerified", when.toString());
        pred.put("resourceUri", resourceUri);
        ObjectNode policy = pred.putObject("policy");
        policy.put("uri", policyUri);
        policy.putObject("digest").put("sha256", policyDigestHex);
        pred.putArray("inputAttestations");
        pred.put("verificationResult", passed ? "PASSED" : "FAILED");
        pred.putArray("verifiedLevels");
        return st;
    }

    /** A DSSE envelope over the statement, signed with ECDSA (hash by curve); keyid = the OMS key hint. */
    public static byte[] sign(ObjectNode statement, PrivateKey key) {
        try {
            byte[] payload = Statements.JSON.writeValueAsBytes(statement);
            byte[] sig = Bundles.signRaw(key, Dsse.pae(Dsse.IN_TOTO, payload));
            ObjectNode env = Statements.JSON.createObjectNode();
            env.put("payloadType", Dsse.IN_TOTO);
            env.put("payload", Base64.getEncoder().encodeToString(payload));
            env.putArray("signatures").addObject()
                    .put("keyid", Bundles.hint(PemKeys.publicKeyOf(key)))
                    .put("sig", Base64.getEncoder().encodeToString(sig));
            return Statements.JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(env);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
