package dev.amalgam.console;

import io.restassured.response.Response;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.restassured.RestAssured.given;

/** Signs in to the console over plain HTTP (REST Assured) and reads the session's CSRF token from a page. */
final class ConsoleHttp {
    private static final Pattern SIGNIN = Pattern.compile("name=\"signin\" value=\"([^\"]+)\"");
    private static final Pattern CSRF = Pattern.compile("name=\"csrf\" value=\"([^\"]+)\"");

    private ConsoleHttp() {
    }

    /** A signed-in session: its cookie value and CSRF token. */
    record Session(String cookie, String csrf) {
    }

    static Response signInResponse(String token) {
        Response form = given().redirects().follow(false).get("/sign-in");
        String signin = first(SIGNIN, form.asString());
        return given().redirects().follow(false).cookie(SignInResource.SIGNIN_COOKIE, form.getCookie(SignInResource.SIGNIN_COOKIE))
                .formParam("token", token).formParam("signin", signin).post("/sign-in");
    }

    static Session signIn(String token) {
        Response r = signInResponse(token);
        if (r.statusCode() != 303) throw new AssertionError("sign-in answered " + r.statusCode() + ": " + r.asString());
        String cookie = r.getCookie(ConsoleFilter.COOKIE);
        String page = given().cookie(ConsoleFilter.COOKIE, cookie).get("/models").asString();
        return new Session(cookie, first(CSRF, page));
    }

    static String first(Pattern p, String html) {
        Matcher m = p.matcher(html);
        if (!m.find()) throw new AssertionError("no " + p + " in " + html);
        return m.group(1);
    }
}
