package dev.amalgam.console;

import dev.amalgam.api.ApiTestSupport;
import dev.amalgam.merge.SampleModel;
import dev.amalgam.registry.PrincipalService;
import dev.amalgam.registry.RegistryConfig;
import dev.amalgam.registry.Role;
import dev.amalgam.safetensors.DType;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.Keys;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The console in a real browser (headless Chromium): sign-in and out, the compliance story from a merge to a
 * downloaded release bundle with a second principal reviewing, four eyes, inert XSS payloads, the lineage
 * picture, the in-browser proof check, keyboard use, and axe-core on every page. Screenshots of each page
 * land in target/console-screenshots (docs/console/ holds a copy).
 */
@QuarkusTest
class ConsoleBrowserTest {
    static final String XSS = "<script>window.__xss=1</script><img src=x onerror=\"window.__xss=1\">";
    static final SampleModel.Spec SPEC = new SampleModel.Spec("llama", 1, 16, 32, 64, 11, DType.BF16);

    static Browser browser;
    static Story story;

    @Inject
    PrincipalService principals;

    @Inject
    RegistryConfig config;

    @TestHTTPResource("/")
    URL base;

    /** The fixture every test shares: principals, two registered models and their succeeded merge. */
    record Story(String tag, String submitter, String reviewer, String deployer, long mergeId, long outputId,
                 long parentId, String parentName) {
    }

    @BeforeAll
    static void startBrowser() {
        browser = Browser.start();
    }

    @AfterAll
    static void closeBrowser() {
        if (browser != null) browser.close();
    }

    @BeforeEach
    void story() throws Exception {
        if (story != null) return;
        String tag = UUID.randomUUID().toString().substring(0, 6);
        String submitter = principals.create("sam-" + tag, EnumSet.of(Role.SUBMITTER, Role.REVIEWER), "test").token();
        String reviewer = principals.create("rita-" + tag, EnumSet.of(Role.REVIEWER), "test").token();
        String deployer = principals.create("dora-" + tag, EnumSet.of(Role.DEPLOYER), "test").token();
        Path models = Files.createDirectories(Path.of("target/test-models").toAbsolutePath().resolve("console-" + tag));
        SampleModel.write(models.resolve("base"), SPEC, null, 0);
        String a = register(submitter, models, "base-" + tag, "apache-2.0", 1);
        String b = register(submitter, models, "chat-" + tag, "mit", 2);
        String recipe = "# " + XSS + "\nmerge_method: linear\nmodels:\n  - model: " + a + "\n    parameters: {weight: 0.6}\n"
                + "  - model: " + b + "\n    parameters: {weight: 0.4}\ndtype: bfloat16\n";
        int mergeId = given().auth().oauth2(submitter).contentType("application/yaml").body(recipe.getBytes(StandardCharsets.UTF_8))
                .queryParam("name", "blend-" + tag).queryParam("version", "1").post("/api/v1/merges")
                .then().statusCode(202).extract().path("id");
        assertEquals("succeeded", ApiTestSupport.awaitMerge("/api/v1/merges/" + mergeId, submitter));
        int outputId = given().auth().oauth2(submitter).get("/api/v1/merges/" + mergeId).then().extract().path("outputModelId");
        int parentId = given().auth().oauth2(submitter).get("/api/v1/models/" + a).then().extract().path("id");
        story = new Story(tag, submitter, reviewer, deployer, mergeId, outputId, parentId, a);
    }

    private static String register(String token, Path models, String name, String license, int seed) throws IOException {
        Path dir = models.resolve(name);
        SampleModel.write(dir, new SampleModel.Spec(SPEC.arch(), SPEC.layers(), SPEC.hidden(), SPEC.intermediate(),
                SPEC.vocab(), seed, SPEC.dtype()), models.resolve("base"), 0.01);
        var r = given().auth().oauth2(token).multiPart("name", name).multiPart("version", "1").multiPart("license", license);
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path f : s.filter(Files::isRegularFile).toList()) {
                r = r.multiPart(dir.relativize(f).toString(), f.getFileName().toString(), Files.readAllBytes(f));
            }
        }
        r.post("/api/v1/models").then().statusCode(201);
        return name + "@1";
    }

    // ---- the tests

    @Test
    void signInAndOut() {
        WebDriver d = browser.driver();
        d.manage().deleteAllCookies();
        open("/models");
        waitFor(ExpectedConditions.urlContains("/sign-in"));
        accessible("sign-in");
        d.findElement(By.id("token")).sendKeys("amg_wrong");
        d.findElement(By.id("sign-in")).click();
        waitFor(ExpectedConditions.presenceOfElementLocated(By.id("sign-in-error")));
        signIn(story.reviewer());
        assertEquals("rita-" + story.tag(), d.findElement(By.id("whoami")).getText());
        assertTrue(noTokenIn(d), "the token is in no URL, cookie or storage the page can read");
        signOut();
        open("/models");
        waitFor(ExpectedConditions.urlContains("/sign-in"));
    }

    @Test
    void wholeStoryFromMergeToDownloadedBundle() {
        WebDriver d = browser.driver();
        // the submitter sees the merge but is told why they cannot approve it
        signIn(story.submitter());
        open("/merges");
        accessible("merges");
        d.findElement(By.linkText("Merge " + story.mergeId())).click();
        waitFor(ExpectedConditions.presenceOfElementLocated(By.id("recipe")));
        assertTrue(d.findElements(By.id("review-form")).isEmpty(), "no review form for the submitter");
        assertTrue(d.findElement(By.id("why-not")).getText().contains("Four eyes"), d.findElement(By.id("why-not")).getText());
        signOut();

        // a second principal reviews in the browser, with the keyboard only
        signIn(story.reviewer());
        open("/merges/" + story.mergeId());
        accessible("merge");
        WebElement comment = d.findElement(By.id("comment"));
        comment.sendKeys("inputs, licenses and scans checked " + XSS);
        comment.sendKeys(Keys.TAB);
        assertEquals("submit-review", d.switchTo().activeElement().getAttribute("id"));
        d.switchTo().activeElement().sendKeys(Keys.ENTER);
        waitFor(ExpectedConditions.presenceOfElementLocated(By.className("review-comment")));
        assertTrue(d.findElement(By.className("flash")).getText().contains("approve recorded"));
        assertTrue(d.findElement(By.className("review-comment")).getText().contains("<script>"), "the comment shows as text");
        assertInert(d);
        browser.screenshot("merge");
        signOut();

        // a deployer asks the gate, reads every rule, downloads the signed decision and releases
        signIn(story.deployer());
        open("/models/" + story.outputId());
        new org.openqa.selenium.support.ui.Select(d.findElement(By.id("gate-env"))).selectByValue("dev");
        d.findElement(By.id("gate")).click();
        waitFor(ExpectedConditions.presenceOfElementLocated(By.id("gate-outcome")));
        assertEquals("allow", d.findElement(By.id("gate-outcome")).getText());
        assertTrue(d.findElements(By.cssSelector("#rules tbody tr")).size() >= 5);
        accessible("gate");
        assertEquals(200, fetchStatus(d.findElement(By.id("statement")).getAttribute("href")));
        d.findElement(By.id("release")).click();
        waitFor(ExpectedConditions.presenceOfElementLocated(By.id("releases")));
        assertTrue(d.findElement(By.id("releases")).getText().contains("dev"));
        accessible("model");
        assertTrue(fetchBytes(d.findElement(By.id("bundle")).getAttribute("href")) > 10_000, "bundle downloaded");
        signOut();
    }

    @Test
    void modelNamesWithMarkupAreRefusedAndRecipeTextStaysInert() {
        // names are checked at registration, so markup never becomes a model name
        given().auth().oauth2(story.submitter()).multiPart("name", "<script>x</script>").multiPart("version", "1")
                .multiPart("license", "mit").multiPart("config.json", "config.json", "{}".getBytes())
                .post("/api/v1/models").then().statusCode(400);
        WebDriver d = browser.driver();
        signIn(story.reviewer());
        open("/merges/" + story.mergeId());
        assertTrue(d.findElement(By.id("recipe")).getText().contains(XSS), "the recipe comment is shown as text");
        assertTrue(d.findElements(By.cssSelector("#recipe script, #recipe img")).isEmpty(), "no element was made from it");
        assertInert(d);
        signOut();
    }

    @Test
    void lineagePictureHasTheRightNodesAndNavigatesOnClick() {
        WebDriver d = browser.driver();
        signIn(story.reviewer());
        open("/models/" + story.outputId());
        List<WebElement> boxes = d.findElements(By.cssSelector("#lineage-picture a[data-model]"));
        List<String> ids = boxes.stream().map(b -> b.getAttribute("data-model")).sorted().toList();
        assertEquals(3, ids.size(), "the output and its two inputs: " + ids);
        assertTrue(ids.contains(String.valueOf(story.outputId())) && ids.contains(String.valueOf(story.parentId())));
        assertEquals(2, d.findElements(By.cssSelector("#lineage-picture path.edge")).size());
        d.findElement(By.cssSelector("#lineage-picture a[data-model='" + story.parentId() + "'] rect")).click();
        waitFor(ExpectedConditions.urlContains("/models/" + story.parentId()));
        assertTrue(d.getTitle().startsWith(story.parentName()), d.getTitle());
        browser.screenshot("lineage");
        signOut();
    }

    @Test
    void inBrowserProofCheckAcceptsARealProofAndRejectsATamperedOne() {
        WebDriver d = browser.driver();
        signIn(story.reviewer());
        open("/ledger");
        accessible("ledger");
        d.findElement(By.cssSelector("#entries tbody tr a")).click();
        waitFor(ExpectedConditions.presenceOfElementLocated(By.id("verify-proof")));
        d.findElement(By.id("verify-proof")).click();
        waitFor(ExpectedConditions.textToBePresentInElementLocated(By.id("proof-result"), "Verified"));
        accessible("ledger-entry");
        WebElement proof = d.findElement(By.id("proof"));
        String text = proof.getAttribute("value");
        String[] lines = text.split("\n", -1);
        assertTrue(lines.length > 3 && !lines[2].isEmpty(), "the proof has an audit path: " + text);
        lines[2] = (lines[2].charAt(0) == 'A' ? "B" : "A") + lines[2].substring(1);
        ((JavascriptExecutor) d).executeScript("arguments[0].value = arguments[1]", proof, String.join("\n", lines));
        d.findElement(By.id("verify-proof")).click();
        waitFor(ExpectedConditions.textToBePresentInElementLocated(By.id("proof-result"), "Rejected"));
        signOut();
    }

    @Test
    void adminPagesCreatePrincipalsShowTheTokenOnceAndRunTheAudit() {
        WebDriver d = browser.driver();
        signIn(ApiTestSupport.adminToken(config.settings().dataDir()));
        open("/principals");
        d.findElement(By.id("p-name")).sendKeys("auditor-" + story.tag());
        d.findElement(By.id("role-reader")).click();
        d.findElement(By.id("create")).click();
        waitFor(ExpectedConditions.presenceOfElementLocated(By.id("new-token")));
        assertTrue(d.findElement(By.id("new-token")).getAttribute("value").startsWith("amg_"));
        assertFalse(d.getCurrentUrl().contains("amg_"), "the token is not in the URL");
        accessible("principals");
        open("/principals");
        assertTrue(d.findElements(By.id("new-token")).isEmpty(), "shown only once");
        open("/ledger");
        d.findElement(By.id("run-audit")).click();
        waitFor(ExpectedConditions.presenceOfElementLocated(By.id("audit-verdict")));
        accessible("audit");
        signOut();
    }

    @Test
    void keyboardReachesContentAndModelsFromTheSkipLink() {
        WebDriver d = browser.driver();
        d.manage().deleteAllCookies();
        open("/sign-in");
        d.findElement(By.id("token")).sendKeys(story.reviewer(), Keys.ENTER);
        waitFor(ExpectedConditions.urlContains("/models"));
        accessible("models");
        d.findElement(By.tagName("body")).sendKeys(Keys.TAB);
        assertEquals("Skip to content", d.switchTo().activeElement().getText());
        d.switchTo().activeElement().sendKeys(Keys.ENTER);
        // from the main content, Tab walks the filter form, then the models table
        WebElement link = null;
        for (int i = 0; i < 30 && link == null; i++) {
            d.switchTo().activeElement().sendKeys(Keys.TAB);
            WebElement a = d.switchTo().activeElement();
            if ("a".equals(a.getTagName()) && a.getAttribute("href").matches(".*/models/\\d+$")) link = a;
        }
        assertTrue(link != null, "a model link is reachable with Tab");
        String href = link.getAttribute("href");
        link.sendKeys(Keys.ENTER);
        waitFor(ExpectedConditions.urlToBe(href));
        signOut();
    }

    // ---- helpers

    private void open(String path) {
        browser.driver().get(base.toString().replaceAll("/$", "") + path);
    }

    private void signIn(String token) {
        WebDriver d = browser.driver();
        d.manage().deleteAllCookies();
        open("/sign-in");
        d.findElement(By.id("token")).sendKeys(token);
        d.findElement(By.id("sign-in")).click();
        waitFor(ExpectedConditions.presenceOfElementLocated(By.id("whoami")));
    }

    private void signOut() {
        browser.driver().findElement(By.id("sign-out")).click();
        waitFor(ExpectedConditions.urlContains("/sign-in"));
    }

    private <T> T waitFor(java.util.function.Function<WebDriver, T> condition) {
        return new WebDriverWait(browser.driver(), Duration.ofSeconds(20)).until(condition::apply);
    }

    private static void assertInert(WebDriver d) {
        assertEquals(Boolean.TRUE, ((JavascriptExecutor) d).executeScript("return window.__xss === undefined"),
                "a payload ran");
    }

    private static boolean noTokenIn(WebDriver d) {
        Object found = ((JavascriptExecutor) d).executeScript(
                "return location.href.includes('amg_') || document.cookie.includes('amg_') || "
                        + "JSON.stringify(localStorage).includes('amg_') || JSON.stringify(sessionStorage).includes('amg_')");
        return Boolean.FALSE.equals(found);
    }

    private long fetchStatus(String url) {
        Object r = ((JavascriptExecutor) browser.driver()).executeAsyncScript(
                "var cb = arguments[arguments.length - 1]; fetch(arguments[0]).then(r => cb(r.status)).catch(e => cb(-1));", url);
        return ((Number) r).longValue();
    }

    private long fetchBytes(String url) {
        Object r = ((JavascriptExecutor) browser.driver()).executeAsyncScript(
                "var cb = arguments[arguments.length - 1]; fetch(arguments[0]).then(r => r.ok ? r.arrayBuffer() : null)"
                        + ".then(b => cb(b ? b.byteLength : -1)).catch(e => cb(-2));", url);
        return ((Number) r).longValue();
    }

    /** Screenshots the page, then runs axe-core on it: no serious or critical violation. */
    private void accessible(String page) {
        browser.screenshot(page);
        JavascriptExecutor js = (JavascriptExecutor) browser.driver();
        js.executeScript(axe());
        Object result = js.executeAsyncScript("var cb = arguments[arguments.length - 1];"
                + "axe.run(document, {resultTypes: ['violations']}).then(function (r) {"
                + "  cb(r.violations.filter(function (v) { return v.impact === 'serious' || v.impact === 'critical'; })"
                + "    .map(function (v) { return v.id + ' (' + v.impact + '): ' + v.help + ' at '"
                + "      + v.nodes.slice(0, 3).map(function (n) { return n.target.join(' '); }).join(', '); }));"
                + "}).catch(function (e) { cb(['axe failed: ' + e]); });");
        assertEquals(List.of(), result, "accessibility of the " + page + " page");
    }

    private static String axeSource;

    private static String axe() {
        if (axeSource == null) {
            try (InputStream in = ConsoleBrowserTest.class.getResourceAsStream("/axe/axe.min.js")) {
                axeSource = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
        return axeSource;
    }
}
