package dev.amalgam.provenance;

import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcePEMDecryptorProviderBuilder;
import org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8DecryptorProviderBuilder;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;
import org.bouncycastle.pkcs.PKCSException;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.jcajce.provider.asymmetric.util.EC5Util;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.openssl.EncryptionException;
import org.bouncycastle.operator.OperatorCreationException;

import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.PublicKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECPoint;
import java.security.spec.ECPublicKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * PEM keys and certificates: private keys as PKCS#8, SEC1 ("EC PRIVATE KEY") or password-encrypted
 * (both PKCS#8 and OpenSSL-style), public keys as SubjectPublicKeyInfo, certificate bundles.
 */
public final class PemKeys {
    /** BouncyCastle's provider for decrypting keys (PBES2 variants the JDK lacks); never installed globally. */
    private static final Provider BC = new BouncyCastleProvider();
    private PemKeys() {
    }

    public static PrivateKey readPrivateKey(Path file, char[] password) {
        Object o = readObject(file);
        JcaPEMKeyConverter conv = new JcaPEMKeyConverter();
        try {
            if (o instanceof PEMEncryptedKeyPair enc) {
                if (password == null) throw new ProvenanceException(file + " is encrypted: a password is required");
                o = enc.decryptKeyPair(new JcePEMDecryptorProviderBuilder().setProvider(BC).build(password));
            }
            if (o instanceof PKCS8EncryptedPrivateKeyInfo enc) {
                if (password == null) throw new ProvenanceException(file + " is encrypted: a password is required");
                o = enc.decryptPrivateKeyInfo(new JceOpenSSLPKCS8DecryptorProviderBuilder().setProvider(BC).build(password));
            }
            PrivateKey key;
            if (o instanceof PEMKeyPair kp) key = conv.getPrivateKey(kp.getPrivateKeyInfo());
            else if (o instanceof PrivateKeyInfo pki) key = conv.getPrivateKey(pki);
            else throw new ProvenanceException(file + " holds no private key");
            if (!(key instanceof ECPrivateKey)) {
                throw new ProvenanceException(file + ": only elliptic-curve keys (P-256, P-384, P-521) are supported");
            }
            Curves.of(((ECPrivateKey) key).getParams());
            return key;
        } catch (PKCSException | OperatorCreationException e) {
            throw new ProvenanceException(file + ": cannot decrypt the key (wrong password?)");
        } catch (EncryptionException e) {
            throw new ProvenanceException(file + ": cannot decrypt the key (wrong password?)");
        } catch (IOException e) {
            throw new ProvenanceException(file + ": " + e.getMessage());
        }
    }

    public static PublicKey readPublicKey(Path file) {
        Object o = readObject(file);
        try {
            if (o instanceof SubjectPublicKeyInfo spki) return checkEc(new JcaPEMKeyConverter().getPublicKey(spki), file.toString());
            if (o instanceof X509CertificateHolder cert) {
                return checkEc(new JcaPEMKeyConverter().getPublicKey(cert.getSubjectPublicKeyInfo()), file.toString());
            }
            if (o instanceof PEMKeyPair kp) return checkEc(new JcaPEMKeyConverter().getPublicKey(kp.getPublicKeyInfo()), file.toString());
        } catch (IOException e) {
            throw new ProvenanceException(file + ": " + e.getMessage());
        }
        throw new ProvenanceException(file + " holds no public key");
    }

    /** Parses a PEM public key from text (as bundles of pre-1.1 versions carry it). */
    public static PublicKey parsePublicKey(String pem, String what) {
        try (PEMParser p = new PEMParser(new StringReader(pem))) {
            Object o = p.readObject();
            if (o instanceof SubjectPublicKeyInfo spki) return checkEc(new JcaPEMKeyConverter().getPublicKey(spki), what);
        } catch (IOException | RuntimeException e) {
            throw new ProvenanceException(what + ": not a PEM public key");
        }
        throw new ProvenanceException(what + ": not a PEM public key");
    }

    /** The public key of an EC private key (computed from the curve: Q = d·G). */
    public static PublicKey publicKeyOf(PrivateKey key) {
        ECPrivateKey ec = (ECPrivateKey) key;
        try {
            var spec = EC5Util.convertSpec(ec.getParams());
            var q = spec.getG().multiply(ec.getS()).normalize();
            var point = new ECPoint(q.getAffineXCoord().toBigInteger(), q.getAffineYCoord().toBigInteger());
            return KeyFactory.getInstance("EC").generatePublic(new ECPublicKeySpec(point, ec.getParams()));
        } catch (GeneralSecurityException e) {
            throw new ProvenanceException("cannot derive the public key: " + e.getMessage());
        }
    }

    /** PEM of a public key exactly as the reference formats it (64-column lines, final newline). */
    public static String publicKeyPem(PublicKey key) {
        String b64 = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(key.getEncoded());
        return "-----BEGIN PUBLIC KEY-----\n" + b64 + "\n-----END PUBLIC KEY-----\n";
    }

    public static List<X509Certificate> readCertificates(Path file) {
        try (var in = Files.newInputStream(file)) {
            List<X509Certificate> out = new ArrayList<>();
            for (var c : CertificateFactory.getInstance("X.509").generateCertificates(in)) out.add((X509Certificate) c);
            if (out.isEmpty()) throw new ProvenanceException(file + " holds no certificate");
            return out;
        } catch (IOException | CertificateException e) {
            throw new ProvenanceException(file + ": not a PEM certificate file (" + e.getMessage() + ")");
        }
    }

    private static PublicKey checkEc(PublicKey k, String what) {
        if (!(k instanceof ECPublicKey ec)) {
            throw new ProvenanceException(what + ": only elliptic-curve keys (P-256, P-384, P-521) are supported");
        }
        Curves.of(ec.getParams());
        return k;
    }

    private static Object readObject(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new ProvenanceException("cannot read " + file + ": " + e.getMessage());
        }
        try (PEMParser p = new PEMParser(new StringReader(text))) {
            Object o = p.readObject();
            if (o == null) throw new ProvenanceException(file + " is not a PEM file");
            return o;
        } catch (IOException | RuntimeException e) {
            if (e instanceof ProvenanceException pe) throw pe;
            throw new ProvenanceException(file + " is not a valid PEM file");
        }
    }
}
