package dev.amalgam.provenance;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Registry signatures are deterministic ECDSA (RFC 6979): same key and message, same bytes; still plain ECDSA to a verifier. */
class DeterministicSignatureTest {

    @Test
    void theSameMessageGetsTheSameSignatureOnEveryCurveAndItVerifiesAsEcdsa() throws Exception {
        for (String curve : new String[] {"secp256r1", "secp384r1", "secp521r1"}) {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec(curve));
            KeyPair kp = g.generateKeyPair();
            byte[] message = ("an in-toto statement signed on request, " + curve).getBytes(StandardCharsets.UTF_8);
            byte[] first = Bundles.signRaw(kp.getPrivate(), message);
            byte[] second = Bundles.signRaw(kp.getPrivate(), message);
            assertArrayEquals(first, second, curve);
            String algorithm = Curves.of(((ECPublicKey) kp.getPublic()).getParams()).signatureAlgorithm;
            assertTrue(Bundles.verifyRaw(kp.getPublic(), algorithm, message, first), curve);
            message[0] ^= 1;
            assertFalse(Bundles.verifyRaw(kp.getPublic(), algorithm, message, first), curve + ": a changed message must not verify");
        }
    }
}
