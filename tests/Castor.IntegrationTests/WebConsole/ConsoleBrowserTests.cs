using System.Collections.ObjectModel;
using System.Net.Http.Json;
using System.Text.Json;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Support.UI;
using Xunit.Abstractions;

namespace Castor.IntegrationTests.WebConsole;

/// <summary>
/// The web console at /console, driven in headless Chromium against a real server with the test model: sign-in, a
/// streamed prompt, a file's upload and deletion, a wrong key, the keyboard. Each test saves a screenshot under
/// artifacts/test-results/console.
/// </summary>
[Collection(ConsoleBrowserCollection.Name)]
public sealed partial class ConsoleBrowserTests(ConsoleBrowserFixture fixture, ITestOutputHelper log)
{
    private ChromeDriver Browser => fixture.Browser;

    private string ConsoleUrl => new Uri(fixture.Server.BaseAddress, "/console/").ToString();

    /// <summary>A fresh page with no key stored (the tab's session storage is cleared first).</summary>
    private void OpenSignedOut()
    {
        Browser.Navigate().GoToUrl(ConsoleUrl);
        Browser.ExecuteScript("sessionStorage.clear();");
        Browser.Navigate().Refresh();
        Until(d => d.FindElement(By.TagName("body")).GetDomAttribute("data-ready") == "true");
    }

    private T Until<T>(Func<IWebDriver, T> condition, int seconds = 60) =>
        new WebDriverWait(Browser, TimeSpan.FromSeconds(seconds)) { PollingInterval = TimeSpan.FromMilliseconds(50) }.Until(condition);

    private IWebElement Id(string id) => Browser.FindElement(By.Id(id));

    private void SignIn(string key)
    {
        Id("api-key").SendKeys(key);
        Id("api-key").SendKeys(Keys.Enter);
    }

    private void SignInAndWaitForModels()
    {
        SignIn(CastorServerFixture.ApiKey);
        Until(_ => Id("model").FindElements(By.TagName("option")).Count > 0);
    }

    [BrowserFact]
    public void A_wrong_key_shows_the_APIs_error_and_stays_signed_out()
    {
        OpenSignedOut();
        try
        {
            SignIn("not-a-key-of-this-server");
            var error = Until(_ => Id("sign-in-error").Text is { Length: > 0 } text ? text : null);

            Assert.Contains("API key not valid", error);
            Assert.False(Id("nav").Displayed);
            Assert.Null(Browser.ExecuteScript("return sessionStorage.getItem('castor.apiKey');"));
        }
        finally
        {
            ChromiumBrowser.SaveScreenshot(Browser, "wrong-key");
        }
    }

    [BrowserFact]
    public void A_streamed_prompt_shows_its_text_as_it_arrives_then_its_token_counts()
    {
        OpenSignedOut();
        try
        {
            SignInAndWaitForModels();
            Assert.Equal(CastorServerFixture.ApiKey, Browser.ExecuteScript("return sessionStorage.getItem('castor.apiKey');"));
            Id("prompt").SendKeys("Once upon a time");
            Id("max-output-tokens").SendKeys("400");
            Id("temperature").SendKeys("0");

            // Records the output's length at every change while the page says it is streaming (aria-busy), so the
            // test sees the text grow across reads of the stream rather than appear at once.
            Browser.ExecuteScript("""
                window.growth = [];
                const output = document.getElementById('output');
                new MutationObserver(() => window.growth.push({ length: output.textContent.length, busy: output.getAttribute('aria-busy') }))
                  .observe(output, { childList: true, characterData: true, subtree: true });
                """);
            // The tiny test model writes a short answer in milliseconds and loopback can deliver it in one read (CI saw
            // that with 40 tokens): a long answer takes the model long enough to span reads, and a throttled download
            // spreads the events further, as a real model's tokens are.
            Browser.ExecuteCdpCommand("Network.enable", []);
            Browser.ExecuteCdpCommand("Network.emulateNetworkConditions", new Dictionary<string, object?>
            {
                ["offline"] = false, ["latency"] = 0, ["downloadThroughput"] = 50_000, ["uploadThroughput"] = -1,
            });
            try
            {
                Id("send").Click();
                Until(_ => Id("output").GetDomAttribute("data-state") is "done" or "failed");
            }
            finally
            {
                Browser.ExecuteCdpCommand("Network.emulateNetworkConditions", new Dictionary<string, object?>
                {
                    ["offline"] = false, ["latency"] = 0, ["downloadThroughput"] = -1, ["uploadThroughput"] = -1,
                });
            }

            Assert.Equal("", Id("playground-error").Text);
            Assert.Equal("done", Id("output").GetDomAttribute("data-state"));
            var finalText = Id("output").Text;
            Assert.NotEmpty(finalText);
            var growth = ((ReadOnlyCollection<object>)Browser.ExecuteScript("return window.growth;")!)
                .Cast<IDictionary<string, object>>()
                .Select(g => (Length: Convert.ToInt32(g["length"], System.Globalization.CultureInfo.InvariantCulture), Busy: (string)g["busy"]))
                .ToList();
            log.WriteLine($"output length at each change (aria-busy): {string.Join(", ", growth.Select(g => $"{g.Length} ({g.Busy})"))}; reads that added text: {Id("output").GetDomAttribute("data-reads")}");
            var whileStreaming = growth.Where(g => g.Busy == "true" && g.Length > 0).Select(g => g.Length).ToList();
            Assert.True(whileStreaming.Distinct().Count() >= 2, $"the output grew only once while streaming: {string.Join(", ", growth)}");
            Assert.Equal(whileStreaming.Order(), whileStreaming);
            Assert.True(int.Parse(Id("output").GetDomAttribute("data-reads")!, System.Globalization.CultureInfo.InvariantCulture) >= 2);

            // Token counts from the stream's usageMetadata.
            Assert.True(int.Parse(Id("usage-prompt").Text, System.Globalization.CultureInfo.InvariantCulture) > 0);
            var output = int.Parse(Id("usage-output").Text, System.Globalization.CultureInfo.InvariantCulture);
            Assert.InRange(output, 1, 400);
            Assert.NotEqual("–", Id("finish-reason").Text);

            // The snippets describe this request and read the key from the environment, never the signed-in key.
            var curl = Id("snippet-curl").Text;
            Assert.Contains(":streamGenerateContent?alt=sse", curl);
            Assert.Contains("\"maxOutputTokens\": 400", curl);
            Assert.Contains("$GEMINI_API_KEY", curl);
            Assert.Contains("generateContentStream", Id("snippet-js").Text);
            Assert.DoesNotContain(CastorServerFixture.ApiKey, curl + Id("snippet-js").Text + Browser.PageSource + Browser.Url);

            // Nothing was fetched from anywhere but this server.
            var origin = fixture.Server.BaseAddress.GetLeftPart(UriPartial.Authority);
            var resources = ((ReadOnlyCollection<object>)Browser.ExecuteScript(
                "return performance.getEntriesByType('resource').map(e => e.name);")!).Cast<string>().ToList();
            Assert.NotEmpty(resources);
            Assert.All(resources, url => Assert.StartsWith(origin + "/", url));
        }
        finally
        {
            ChromiumBrowser.SaveScreenshot(Browser, "stream");
        }
    }

    [BrowserFact]
    public async Task A_file_uploaded_in_the_console_is_listed_then_deleted()
    {
        OpenSignedOut();
        var path = Path.Combine(Path.GetTempPath(), "console-upload-" + Guid.NewGuid().ToString("N")[..8] + ".txt");
        await File.WriteAllTextAsync(path, "Castor console upload test.\n");
        try
        {
            SignInAndWaitForModels();
            Browser.FindElement(By.CssSelector("#nav button[data-page='files']")).Click();
            Until(_ => Id("page-files").Displayed);
            Id("upload-file").SendKeys(path);
            Id("upload-display-name").SendKeys("console test file");
            Id("upload").Click();

            var row = Until(d => d.FindElements(By.CssSelector("#files-table tbody tr[data-name]"))
                .FirstOrDefault(r => r.Text.Contains("console test file", StringComparison.Ordinal)));
            var name = row!.GetDomAttribute("data-name")!;
            Assert.StartsWith("files/", name);
            Assert.Contains("text/plain", row.Text);

            // The API agrees: the file is in the project, with the bytes the browser sent.
            using var client = fixture.Server.CreateClient();
            var file = await client.GetFromJsonAsync<JsonElement>($"/v1beta/{name}");
            Assert.Equal("console test file", file.GetProperty("displayName").GetString());
            Assert.Equal("28", file.GetProperty("sizeBytes").GetString());
            ChromiumBrowser.SaveScreenshot(Browser, "files-uploaded");

            row.FindElement(By.TagName("button")).Click();
            Until(d => d.FindElements(By.CssSelector($"#files-table tbody tr[data-name='{name}']")).Count == 0);
            Assert.Contains($"Deleted {name}", Id("files-status").Text);
            var listed = await client.GetFromJsonAsync<JsonElement>("/v1beta/files");
            Assert.DoesNotContain(name, listed.ToString());
        }
        finally
        {
            ChromiumBrowser.SaveScreenshot(Browser, "files-deleted");
            File.Delete(path);
        }
    }

    [BrowserFact]
    public void The_keyboard_alone_signs_in_reaches_send_and_sends()
    {
        OpenSignedOut();
        try
        {
            // Tab from the page's start reaches the key field; Enter submits the form.
            var body = Browser.FindElement(By.TagName("body"));
            body.Click();
            var reachedKey = TabUntil("api-key");
            Assert.True(reachedKey, "Tab never reached the API key field");
            Browser.SwitchTo().ActiveElement().SendKeys(CastorServerFixture.ApiKey + Keys.Enter);
            Until(_ => Id("model").FindElements(By.TagName("option")).Count > 0);

            Id("max-output-tokens").SendKeys("16");
            Id("prompt").SendKeys("Tom had a");
            Assert.True(TabUntil("send"), "Tab never reached the Send button");

            // Focus is visible on it.
            var outline = (string)Browser.ExecuteScript("return getComputedStyle(document.activeElement).outlineStyle;")!;
            Assert.NotEqual("none", outline);
            Browser.SwitchTo().ActiveElement().SendKeys(Keys.Enter);
            Until(_ => Id("output").GetDomAttribute("data-state") is "done" or "failed");
            Assert.Equal("done", Id("output").GetDomAttribute("data-state"));
        }
        finally
        {
            ChromiumBrowser.SaveScreenshot(Browser, "keyboard");
        }
    }

    [BrowserFact]
    public void A_JSON_schema_makes_the_answer_JSON_of_that_schema()
    {
        OpenSignedOut();
        try
        {
            SignInAndWaitForModels();
            Id("prompt").SendKeys("Is the sky blue?");
            Id("json-schema").SendKeys("""{"type":"string","enum":["yes","no"]}""");
            Id("send").Click();
            Until(_ => Id("output").GetDomAttribute("data-state") is "done" or "failed");

            Assert.Equal("", Id("playground-error").Text);
            Assert.Contains(JsonSerializer.Deserialize<string>(Id("output").Text), new[] { "yes", "no" });
            Assert.Contains("\"responseMimeType\": \"application/json\"", Id("snippet-curl").Text);
            Assert.Contains("responseJsonSchema", Id("snippet-js").Text);
        }
        finally
        {
            ChromiumBrowser.SaveScreenshot(Browser, "json-schema");
        }
    }

    [BrowserFact]
    public async Task Cached_contents_and_batches_are_listed_and_deleted_in_the_console()
    {
        using var client = fixture.Server.CreateClient();
        using var cacheResponse = await client.PostAsync("/v1beta/cachedContents",
            new StringContent(Caching.CachedContentTests.CreateBody(model: "models/stories260k"), System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(System.Net.HttpStatusCode.OK, cacheResponse.StatusCode);
        var cache = (await cacheResponse.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("name").GetString()!;
        using var batchResponse = await client.PostAsJsonAsync("/v1beta/models/stories260k:batchGenerateContent", new
        {
            batch = new
            {
                displayName = "console batch",
                inputConfig = new { requests = new { requests = new[] { new { request = new { contents = new[] { new { parts = new[] { new { text = "Hi" } } } }, generationConfig = new { maxOutputTokens = 4 } } } } } },
            },
        });
        Assert.Equal(System.Net.HttpStatusCode.OK, batchResponse.StatusCode);
        var batch = (await batchResponse.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("name").GetString()!;

        OpenSignedOut();
        try
        {
            SignInAndWaitForModels();
            Browser.FindElement(By.CssSelector("#nav button[data-page='models']")).Click();
            var model = Until(d => d.FindElements(By.CssSelector("#models-table tbody tr")).FirstOrDefault(r => r.Text.StartsWith("stories260k", StringComparison.Ordinal)));
            Assert.Contains("generateContent", model!.Text);
            Assert.Contains("Local GGUF model", model.Text);

            Browser.FindElement(By.CssSelector("#nav button[data-page='caches']")).Click();
            var cacheRow = Until(d => d.FindElements(By.CssSelector($"#caches-table tbody tr[data-name='{cache}']")).FirstOrDefault());
            Assert.Contains("lily", cacheRow!.Text);
            Assert.Contains("stories260k", cacheRow.Text);
            cacheRow.FindElement(By.TagName("button")).Click();
            Until(d => d.FindElements(By.CssSelector($"#caches-table tbody tr[data-name='{cache}']")).Count == 0);
            // The API answers a deleted cache as it answers someone else's: 403 PERMISSION_DENIED.
            using (var gone = await client.GetAsync($"/v1beta/{cache}"))
                Assert.Equal(System.Net.HttpStatusCode.Forbidden, gone.StatusCode);

            Browser.FindElement(By.CssSelector("#nav button[data-page='batches']")).Click();
            var batchRow = Until(d => d.FindElements(By.CssSelector($"#batches-table tbody tr[data-name='{batch}']")).FirstOrDefault());
            Assert.Contains("console batch", batchRow!.Text);
            Assert.Matches("BATCH_STATE_[A-Z]+", batchRow.Text);
            ChromiumBrowser.SaveScreenshot(Browser, "batches");
            batchRow.FindElement(By.TagName("button")).Click();
            Until(d => d.FindElements(By.CssSelector($"#batches-table tbody tr[data-name='{batch}']")).Count == 0);
            using (var gone = await client.GetAsync($"/v1beta/{batch}"))
                Assert.Equal(System.Net.HttpStatusCode.NotFound, gone.StatusCode);
        }
        finally
        {
            ChromiumBrowser.SaveScreenshot(Browser, "caches-and-batches");
        }
    }

    [BrowserFact]
    public void Every_control_on_every_page_has_a_label()
    {
        OpenSignedOut();
        try
        {
            // An admin key, so the admin pages are there to check too.
            SignIn(fixture.AdminKey);
            Until(_ => Id("model").FindElements(By.TagName("option")).Count > 0);
            Until(d => d.FindElement(By.TagName("body")).GetDomAttribute("data-admin") == "true");
            var missing = new List<string>();
            foreach (var page in new[] { "playground", "models", "files", "caches", "batches", "usage", "admin" })
            {
                Browser.FindElement(By.CssSelector($"#nav button[data-page='{page}']")).Click();
                Until(_ => Id("page-" + page).Displayed);
                var unlabelled = (ReadOnlyCollection<object>)Browser.ExecuteScript("""
                    const missing = [];
                    for (const c of document.querySelectorAll('input, select, textarea, progress'))
                      if (!c.labels?.length && !c.getAttribute('aria-label') && !c.getAttribute('aria-labelledby')) missing.push(c.id || c.outerHTML);
                    for (const b of document.querySelectorAll('button'))
                      if (!b.textContent.trim() && !b.getAttribute('aria-label')) missing.push(b.id || b.outerHTML);
                    return missing;
                    """)!;
                missing.AddRange(unlabelled.Select(m => $"{page}: {m}"));
            }
            Assert.Empty(missing);
        }
        finally
        {
            ChromiumBrowser.SaveScreenshot(Browser, "labels");
        }
    }

    /// <summary>Presses Tab until the element with <paramref name="id"/> has focus (at most 40 presses).</summary>
    private bool TabUntil(string id)
    {
        for (var i = 0; i < 40; i++)
        {
            if ((string?)Browser.ExecuteScript("return document.activeElement && document.activeElement.id;") == id) return true;
            new OpenQA.Selenium.Interactions.Actions(Browser).SendKeys(Keys.Tab).Perform();
        }
        return (string?)Browser.ExecuteScript("return document.activeElement && document.activeElement.id;") == id;
    }
}
