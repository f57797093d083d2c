using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;

namespace Castor.IntegrationTests.WebConsole;

/// <summary>
/// Debian's headless Chromium driven through its own chromedriver (<c>apt-get install chromium chromium-driver</c>;
/// <c>.ci/run</c> installs them). Nothing is downloaded: Selenium is pointed at both binaries. Without them the browser
/// tests are skipped locally and fail in CI (<c>CI=true</c>).
/// </summary>
public static class ChromiumBrowser
{
    public const string DriverPath = "/usr/bin/chromedriver";

    /// <summary>The browser binary itself, not Debian's /usr/bin/chromium wrapper script (which needs bash features dash lacks).</summary>
    public static string BrowserPath => File.Exists("/usr/lib/chromium/chromium") ? "/usr/lib/chromium/chromium" : "/usr/bin/chromium";

    private static bool InCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    public static bool Installed => File.Exists(DriverPath) && File.Exists(BrowserPath);

    /// <summary>Why browser tests are skipped here, or null when they run (Chromium is installed, or this is CI, where they must run).</summary>
    public static string? SkipReason => !Installed && !InCi
        ? "Browser tests need Debian's chromium and chromium-driver (apt-get install -y chromium chromium-driver); in CI (CI=true) they fail instead of skipping."
        : null;

    public static ChromeDriver Start()
    {
        if (!Installed)
            throw new InvalidOperationException($"CI=true but {DriverPath} or {BrowserPath} is missing: .ci/run must install chromium and chromium-driver.");
        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(DriverPath)!, Path.GetFileName(DriverPath));
        service.HideCommandPromptWindow = true;
        service.SuppressInitialDiagnosticInformation = true;
        var options = new ChromeOptions { BinaryLocation = BrowserPath };
        // --no-sandbox: CI runs as root, where Chromium refuses its sandbox.
        options.AddArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1100",
            "--no-first-run", "--disable-extensions", "--disable-background-networking", "--disable-component-update", "--disable-sync");
        var driver = new ChromeDriver(service, options, TimeSpan.FromSeconds(60));
        driver.Manage().Timeouts().AsynchronousJavaScript = TimeSpan.FromSeconds(30);
        return driver;
    }

    /// <summary>artifacts/test-results/console in the repository (CI keeps artifacts/test-results), created when missing.</summary>
    public static string ScreenshotFolder()
    {
        var folder = new DirectoryInfo(AppContext.BaseDirectory);
        while (folder is not null && !File.Exists(Path.Combine(folder.FullName, "Castor.slnx"))) folder = folder.Parent;
        var root = folder?.FullName ?? Path.GetTempPath();
        var path = Path.Combine(root, "artifacts", "test-results", "console");
        Directory.CreateDirectory(path);
        return path;
    }

    public static void SaveScreenshot(IWebDriver driver, string name)
    {
        try
        {
            ((ITakesScreenshot)driver).GetScreenshot().SaveAsFile(Path.Combine(ScreenshotFolder(), name + ".png"));
        }
        catch (WebDriverException)
        {
            // A browser that died says why in the test's own failure; a missing screenshot must not hide that.
        }
    }
}

/// <summary>A test that drives Chromium: skipped outside CI when it is not installed (see <see cref="ChromiumBrowser.SkipReason"/>).</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class BrowserFactAttribute : FactAttribute
{
    public BrowserFactAttribute()
    {
        if (ChromiumBrowser.SkipReason is { } reason) Skip = reason;
    }
}
