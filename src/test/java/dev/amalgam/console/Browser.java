package dev.amalgam.console;

import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * One headless Debian Chromium driven through its own ChromeDriver, kept off the network and on a fresh
 * profile; a test class opens one and closes it once (a browser start costs about a second).
 */
public final class Browser implements AutoCloseable {
    static final String CHROMIUM = System.getProperty("amalgam.chromium", "/usr/bin/chromium");
    static final String CHROMEDRIVER = System.getProperty("amalgam.chromedriver", "/usr/bin/chromedriver");
    /** Where screenshots land; docs/console/ holds a copy of them. */
    static final Path SHOTS = Path.of("target/console-screenshots");

    private final Path profile;
    private final ChromeDriver driver;

    private Browser(Path profile, ChromeDriver driver) {
        this.profile = profile;
        this.driver = driver;
    }

    /** Starts Chromium; fails with how to install it when it is missing. */
    public static Browser start() {
        for (String exe : new String[]{CHROMIUM, CHROMEDRIVER}) {
            if (!Files.isExecutable(Path.of(exe))) {
                throw new IllegalStateException("the console's browser tests need Chromium and ChromeDriver: " + exe
                        + " is missing. Install them with 'apt-get install -y chromium chromium-driver' (.ci/run does), "
                        + "or point -Damalgam.chromium / -Damalgam.chromedriver at them");
            }
        }
        try {
            Path profile = Files.createTempDirectory("amalgam-chromium-");
            ChromeOptions options = new ChromeOptions();
            options.setBinary(CHROMIUM);
            options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--window-size=1280,900", "--user-data-dir=" + profile);
            ChromeDriverService service = new ChromeDriverService.Builder()
                    .usingDriverExecutable(new File(CHROMEDRIVER)).usingAnyFreePort().build();
            ChromeDriver driver = new ChromeDriver(service, options);
            driver.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(30));
            driver.manage().timeouts().scriptTimeout(Duration.ofSeconds(30));
            return new Browser(profile, driver);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public WebDriver driver() {
        return driver;
    }

    /** Saves a PNG of the current page as target/console-screenshots/NAME.png. */
    public void screenshot(String name) {
        try {
            Files.createDirectories(SHOTS);
            Files.write(SHOTS.resolve(name + ".png"), driver.getScreenshotAs(OutputType.BYTES));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        try {
            driver.quit();
        } finally {
            try (Stream<Path> s = Files.walk(profile)) {
                s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (IOException ignored) {
                // a temp profile left behind is harmless
            }
        }
    }
}
