package dev.amalgam.console;

import dev.amalgam.api.ApiTestSupport;
import dev.amalgam.registry.PrincipalService;
import dev.amalgam.registry.RegistryConfig;
import dev.amalgam.registry.Role;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Method;
import java.lang.reflect.Parameter;
import java.util.ArrayList;
import java.util.List;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The console's session, CSRF, header and role rules, checked over plain HTTP. */
@QuarkusTest
class ConsoleSecurityTest {
    @Inject
    PrincipalService principals;

    @Inject
    RegistryConfig config;

    @Test
    void pagesWithoutASessionRedirectToSignIn() {
        given().redirects().follow(false).get("/models").then().statusCode(303)
                .header("Location", containsString("/sign-in"));
        given().redirects().follow(false).cookie(ConsoleFilter.COOKIE, "x".repeat(43)).get("/ledger").then().statusCode(303);
    }

    @Test
    void sessionCookieIsHttpOnlyStrictAndExpires() {
        Response r = ConsoleHttp.signInResponse(ApiTestSupport.tokenWithRole(principals, Role.READER));
        assertEquals(303, r.statusCode());
        var cookie = r.getDetailedCookie(ConsoleFilter.COOKIE);
        assertNotNull(cookie);
        assertTrue(cookie.isHttpOnly(), "HttpOnly");
        assertEquals("Strict", cookie.getSameSite());
        assertEquals(8 * 3600, cookie.getMaxAge());
        assertEquals("/", cookie.getPath());
        assertTrue(!cookie.isSecured(), "plain http: not Secure");
        assertTrue(!r.getHeader("Location").contains("token"), "no token in the redirect");
    }

    @Test
    void cookieIsSecureBehindTls() {
        // a request that arrived over https (as a TLS-terminating proxy reports it) gets a Secure cookie
        Response form = given().redirects().follow(false).header("X-Forwarded-Proto", "https").get("/sign-in");
        var signin = form.getDetailedCookie(SignInResource.SIGNIN_COOKIE);
        assertTrue(signin.isSecured(), "Secure behind TLS");
    }

    @Test
    void badTokenAndForeignSignInFormAreRefused() {
        ConsoleHttp.signInResponse("amg_not-a-real-token").then().statusCode(401)
                .body(containsString("not valid"));
        // a cross-site POST carries no SameSite=Strict sign-in cookie: refused
        given().redirects().follow(false).formParam("token", ApiTestSupport.adminToken(config.settings().dataDir()))
                .formParam("signin", "forged").post("/sign-in").then().statusCode(403)
                .body(not(containsString(ConsoleFilter.COOKIE)));
    }

    @Test
    void everyConsolePageCarriesAStrictContentSecurityPolicy() {
        var s = ConsoleHttp.signIn(ApiTestSupport.tokenWithRole(principals, Role.READER));
        for (String page : List.of("/sign-in", "/models", "/merges", "/ledger")) {
            given().redirects().follow(false).cookie(ConsoleFilter.COOKIE, s.cookie()).get(page).then()
                    .header("Content-Security-Policy", equalTo(ConsoleFilter.CSP))
                    .header("Content-Security-Policy", not(containsString("unsafe-inline")))
                    .header("X-Frame-Options", "DENY")
                    .header("X-Content-Type-Options", "nosniff")
                    .header("Cache-Control", "no-store");
        }
    }

    @Test
    void postsWithoutTheSessionsCsrfTokenAreRefused() {
        String admin = ApiTestSupport.adminToken(config.settings().dataDir());
        var s = ConsoleHttp.signIn(admin);
        var other = ConsoleHttp.signIn(admin);
        given().cookie(ConsoleFilter.COOKIE, s.cookie()).formParam("name", "csrf-victim").formParam("roles", "reader")
                .post("/principals").then().statusCode(403).body(containsString("CSRF"));
        given().cookie(ConsoleFilter.COOKIE, s.cookie()).formParam("name", "csrf-victim").formParam("roles", "reader")
                .formParam("csrf", other.csrf()).post("/principals").then().statusCode(403);
        assertTrue(!principals.exists("csrf-victim"));
        given().cookie(ConsoleFilter.COOKIE, s.cookie()).formParam("csrf", "wrong").post("/sign-out").then().statusCode(403);
        given().cookie(ConsoleFilter.COOKIE, s.cookie()).formParam("name", "csrf-ok").formParam("roles", "reader")
                .formParam("csrf", s.csrf()).post("/principals").then().statusCode(200).body(containsString("amg_"));
        assertTrue(principals.exists("csrf-ok"));
    }

    @Test
    void theConsoleCookieDoesNotAuthoriseTheApi() {
        var s = ConsoleHttp.signIn(ApiTestSupport.adminToken(config.settings().dataDir()));
        given().cookie(ConsoleFilter.COOKIE, s.cookie()).get("/api/v1/models").then().statusCode(401);
    }

    @Test
    void rolesAreEnforcedOnTheServerToo() {
        var reader = ConsoleHttp.signIn(ApiTestSupport.tokenWithRole(principals, Role.READER));
        given().cookie(ConsoleFilter.COOKIE, reader.cookie()).get("/principals").then().statusCode(403);
        given().cookie(ConsoleFilter.COOKIE, reader.cookie()).formParam("name", "by-reader").formParam("roles", "admin")
                .formParam("csrf", reader.csrf()).post("/principals").then().statusCode(403);
        given().cookie(ConsoleFilter.COOKIE, reader.cookie()).formParam("csrf", reader.csrf()).post("/ledger/audit")
                .then().statusCode(403);
        given().cookie(ConsoleFilter.COOKIE, reader.cookie()).formParam("csrf", reader.csrf()).formParam("env", "dev")
                .post("/models/1/gate").then().statusCode(403);
        given().cookie(ConsoleFilter.COOKIE, reader.cookie()).get("/models").then().statusCode(200)
                .body(not(containsString("href=\"/principals\"")));
    }

    @Test
    void signOutEndsTheSessionAndRevocationEndsIt() {
        var s = ConsoleHttp.signIn(ApiTestSupport.tokenWithRole(principals, Role.READER));
        given().redirects().follow(false).cookie(ConsoleFilter.COOKIE, s.cookie()).formParam("csrf", s.csrf())
                .post("/sign-out").then().statusCode(303);
        given().redirects().follow(false).cookie(ConsoleFilter.COOKIE, s.cookie()).get("/models").then().statusCode(303);

        String name = "revoked-" + System.nanoTime();
        var created = principals.create(name, java.util.EnumSet.of(Role.READER), "test");
        var t = ConsoleHttp.signIn(created.token());
        principals.revoke(name, "test");
        given().redirects().follow(false).cookie(ConsoleFilter.COOKIE, t.cookie()).get("/models").then().statusCode(303);
    }

    @Test
    void everyConsolePostTakesACsrfToken() {
        List<String> missing = new ArrayList<>();
        for (Class<?> c : List.of(SignInResource.class, ModelPages.class, MergePages.class, LedgerPages.class,
                PrincipalPages.class)) {
            for (Method m : c.getDeclaredMethods()) {
                if (!m.isAnnotationPresent(jakarta.ws.rs.POST.class) || m.isAnnotationPresent(Anonymous.class)) continue;
                boolean has = false;
                for (Parameter p : m.getParameters()) {
                    var f = p.getAnnotation(org.jboss.resteasy.reactive.RestForm.class);
                    has |= f != null && f.value().equals("csrf");
                }
                if (!has) missing.add(c.getSimpleName() + "." + m.getName());
            }
        }
        assertEquals(List.of(), missing, "POST endpoints without a csrf form field");
    }
}
