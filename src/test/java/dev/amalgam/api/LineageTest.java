package dev.amalgam.api;

import dev.amalgam.registry.LineageFixtures;
import dev.amalgam.registry.RegistryConfig;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.UUID;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsInAnyOrder;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.startsWith;

/**
 * Lineage over HTTP on a small graph with a diamond:
 * m1 = merge(a base, b); m2 = merge(m1 base, c); m3 = merge(m1 base, m2) (m1 reached twice).
 */
@QuarkusTest
class LineageTest {
    @Inject
    LineageFixtures fx;

    @Inject
    RegistryConfig config;

    String token;
    String p; // unique name prefix per test
    long a, b, c, m1, m2, m3;

    @BeforeEach
    void graph() {
        token = ApiTestSupport.adminToken(config.settings().dataDir());
        p = UUID.randomUUID().toString().substring(0, 8) + "-";
        a = fx.model(p + "a", "registered");
        b = fx.model(p + "b", "registered");
        c = fx.model(p + "c", "registered");
        m1 = fx.model(p + "m1", "approved");
        m2 = fx.model(p + "m2", "released");
        m3 = fx.model(p + "m3", "released");
        fx.edge(m1, a, "base");
        fx.edge(m1, b, "input");
        fx.edge(m2, m1, "base");
        fx.edge(m2, c, "input");
        fx.edge(m3, m1, "base");
        fx.edge(m3, m2, "input");
    }

    @Test
    void ancestorsAreTransitiveWithShortestDepth() {
        given().auth().oauth2(token).get("/api/v1/models/" + m3 + "/lineage?direction=up&depth=10")
                .then().statusCode(200)
                .body("root.name", equalTo(p + "m3"))
                .body("nodes.name", containsInAnyOrder(p + "m1", p + "m2", p + "a", p + "b", p + "c"))
                .body("nodes.find { it.name == '" + p + "m1' }.depth", equalTo(1))
                .body("nodes.find { it.name == '" + p + "c' }.depth", equalTo(2))
                .body("edges", hasSize(6));
    }

    @Test
    void depthLimitsTheWalk() {
        given().auth().oauth2(token).get("/api/v1/models/" + m2 + "/lineage?direction=up&depth=1")
                .then().statusCode(200)
                .body("nodes.name", containsInAnyOrder(p + "m1", p + "c"));
    }

    @Test
    void descendantsByNameAtVersionAndByDigest() {
        given().auth().oauth2(token).get("/api/v1/models/" + p + "a@1/lineage?direction=down")
                .then().statusCode(200)
                .body("nodes.name", containsInAnyOrder(p + "m1", p + "m2", p + "m3"));
        String digest = given().auth().oauth2(token).get("/api/v1/models/" + a).then().statusCode(200)
                .extract().path("rootDigest");
        given().auth().oauth2(token).get("/api/v1/models/" + digest + "/lineage?direction=down&depth=1")
                .then().statusCode(200)
                .body("nodes.name", containsInAnyOrder(p + "m1"));
    }

    @Test
    void impactListsOnlyReleasedDescendants() {
        given().auth().oauth2(token).get("/api/v1/models/" + b + "/impact")
                .then().statusCode(200)
                .body("name", containsInAnyOrder(p + "m2", p + "m3"));
    }

    @Test
    void dotAndMermaidRenderTheGraph() {
        given().auth().oauth2(token).get("/api/v1/models/" + m1 + "/lineage?format=dot")
                .then().statusCode(200)
                .contentType(startsWith("text/vnd.graphviz"))
                .body(startsWith("digraph lineage {"))
                .body(containsString("m" + a + " -> m" + m1 + " [label=\"base / ties\"]"));
        given().auth().oauth2(token).get("/api/v1/models/" + m1 + "/lineage?format=mermaid")
                .then().statusCode(200)
                .body(startsWith("flowchart LR"))
                .body(containsString("m" + b + " -->|input ties| m" + m1));
    }

    @Test
    void badParametersAreProblems() {
        given().auth().oauth2(token).get("/api/v1/models/" + m1 + "/lineage?direction=sideways")
                .then().statusCode(400).contentType("application/problem+json")
                .body("detail", containsString("sideways"));
        given().auth().oauth2(token).get("/api/v1/models/" + m1 + "/lineage?depth=0")
                .then().statusCode(400).body("detail", containsString("depth"));
        given().auth().oauth2(token).get("/api/v1/models/" + m1 + "/lineage?format=svg")
                .then().statusCode(400).body("detail", containsString("svg"));
        given().auth().oauth2(token).get("/api/v1/models/nobody@9")
                .then().statusCode(404).contentType("application/problem+json");
        given().auth().oauth2(token).get("/api/v1/models/sha256:xyz")
                .then().statusCode(400).body("detail", containsString("NAME@VERSION"));
    }
}
