using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Castor.Application.Metering;
using Microsoft.Extensions.DependencyInjection;
using OpenQA.Selenium;

namespace Castor.IntegrationTests.WebConsole;

/// <summary>The Usage page (every key) and the admin keys page (admin keys only, as the server answers GET castor/keys).</summary>
public sealed partial class ConsoleBrowserTests
{
    [BrowserFact]
    public async Task An_ordinary_key_sees_no_admin_navigation_and_its_usage_page_shows_its_projects_numbers()
    {
        using var client = fixture.Server.CreateClient();
        using (var generated = await client.PostAsJsonAsync("/v1beta/models/stories260k:generateContent", new
        {
            contents = new[] { new { parts = new[] { new { text = "Once upon a time" } } } },
            generationConfig = new { maxOutputTokens = 8 },
        }))
            Assert.Equal(HttpStatusCode.OK, generated.StatusCode);
        // Usage reaches the database at the meter's flush; flushing here makes the report include the request now.
        await fixture.Server.App.Services.GetRequiredService<UsageMeter>().FlushAsync();
        var expected = await client.GetFromJsonAsync<JsonElement>("/v1beta/castor/usage?since=24h&by=model");
        Assert.Equal("default", expected.GetProperty("project").GetString());
        var row = expected.GetProperty("rows").EnumerateArray().Single(r => r.GetProperty("group").GetString() == "stories260k");
        var requests = row.GetProperty("requests").GetInt64();
        var tokens = row.GetProperty("totalTokenCount").GetInt64();
        Assert.True(requests >= 1 && tokens > 0);

        OpenSignedOut();
        try
        {
            SignInAndWaitForModels();
            Until(d => d.FindElement(By.TagName("body")).GetDomAttribute("data-admin") == "false");
            Assert.False(Id("nav-admin").Displayed);
            Assert.DoesNotContain(Browser.FindElements(By.CssSelector("#nav button")), b => b.Displayed && b.Text.Contains("admin", StringComparison.OrdinalIgnoreCase));

            Browser.FindElement(By.CssSelector("#nav button[data-page='usage']")).Click();
            Until(_ => Id("page-usage").Displayed);
            // No project filter for an ordinary key: the server would refuse another project anyway.
            Assert.False(Id("usage-project-field").Displayed);
            Choose("usage-period", "24h");
            Id("usage-show").Click();
            // The table shows this query's answer (an earlier one for the default period may have been drawn first).
            Until(_ => Id("usage-table").GetDomAttribute("data-query") == "since=24h&by=model");
            var cells = Until(d => Fresh(() => d.FindElements(By.CssSelector("#usage-table tbody tr[data-group='stories260k']")).FirstOrDefault()
                ?.FindElements(By.TagName("td")).Take(7)
                .Select(c => long.Parse(c.Text.Replace(",", "", StringComparison.Ordinal), System.Globalization.CultureInfo.InvariantCulture)).ToList()))!;
            Assert.Equal("", Id("usage-error").Text);
            Assert.True(cells[0] >= requests, $"requests {cells[0]} < {requests}");
            Assert.True(cells[6] >= tokens, $"total tokens {cells[6]} < {tokens}");
            Assert.Contains("project default", Id("usage-summary").Text);
            // The chart's bar for the model carries the table's total.
            var bar = Browser.FindElement(By.CssSelector("#usage-chart g.bar[data-group='stories260k'] rect"));
            Assert.Equal(cells[6].ToString(System.Globalization.CultureInfo.InvariantCulture), bar.GetDomAttribute("data-value"));
            Assert.True(bar.Size.Width > 0);
            ChromiumBrowser.SaveScreenshot(Browser, "usage-ordinary");
        }
        finally
        {
            ChromiumBrowser.SaveScreenshot(Browser, "usage-ordinary-end");
        }
    }

    [BrowserFact]
    public async Task An_admin_key_creates_a_key_with_the_keyboard_that_works_then_revokes_it_and_it_is_refused()
    {
        using var anonymous = fixture.Server.CreateClient(apiKey: null);
        OpenSignedOut();
        try
        {
            SignIn(fixture.AdminKey);
            Until(d => d.FindElement(By.TagName("body")).GetDomAttribute("data-admin") == "true");

            // Keyboard only: Tab to the admin navigation, Enter, Tab to the form's fields, Enter creates.
            Assert.True(TabUntil("nav-admin"), "Tab never reached the admin navigation");
            Browser.SwitchTo().ActiveElement().SendKeys(Keys.Enter);
            Until(_ => Id("page-admin").Displayed);
            Until(d => d.FindElements(By.CssSelector("#keys-table tbody tr[data-id]")).Count > 0);
            Assert.True(TabUntil("key-project"), "Tab never reached the project field");
            Browser.SwitchTo().ActiveElement().SendKeys("console-made");
            Assert.True(TabUntil("key-name"), "Tab never reached the display name field");
            Browser.SwitchTo().ActiveElement().SendKeys("made in the console");
            Assert.True(TabUntil("key-create"), "Tab never reached the create button");
            Browser.SwitchTo().ActiveElement().SendKeys(Keys.Enter);

            var key = Until(_ => Id("new-key").Displayed && Id("new-key-value").GetDomProperty("value") is { Length: > 0 } value ? value : null)!;
            Assert.Contains("shown this", Id("new-key-warning").Text);
            Assert.Equal("new-key-value", Browser.SwitchTo().ActiveElement().GetDomAttribute("id"));
            var row = Until(d => Fresh(() => d.FindElements(By.CssSelector("#keys-table tbody tr[data-id]")).FirstOrDefault(r => r.Text.Contains("console-made", StringComparison.Ordinal))))!;
            var id = row.GetDomAttribute("data-id")!;
            Assert.Contains("made in the console", row.Text);
            Assert.Contains("ordinary", row.Text);
            Assert.Contains("active", row.Text);
            Assert.DoesNotContain(key, row.Text);
            ChromiumBrowser.SaveScreenshot(Browser, "admin-key-created");

            // The new key works against the API, in its own project.
            using (var works = new HttpRequestMessage(HttpMethod.Get, "/v1beta/castor/usage?since=24h"))
            {
                works.Headers.Add("x-goog-api-key", key);
                using var answer = await anonymous.SendAsync(works);
                Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
                Assert.Equal("console-made", (await answer.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("project").GetString());
            }

            // Revoke asks first; dismissing keeps the key.
            row.FindElement(By.TagName("button")).Click();
            var confirm = Until(d => { try { return d.SwitchTo().Alert(); } catch (NoAlertPresentException) { return null; } })!;
            Assert.Contains(id, confirm.Text);
            confirm.Dismiss();
            Assert.Contains("active", Browser.FindElement(By.CssSelector($"#keys-table tbody tr[data-id='{id}']")).Text);
            Browser.FindElement(By.CssSelector($"#keys-table tbody tr[data-id='{id}'] button")).Click();
            Until(d => { try { return d.SwitchTo().Alert(); } catch (NoAlertPresentException) { return null; } })!.Accept();
            Until(d => Fresh(() => d.FindElements(By.CssSelector($"#keys-table tbody tr[data-id='{id}']")).FirstOrDefault(r => r.Text.Contains("revoked", StringComparison.Ordinal))));
            Assert.Contains($"Revoked key {id}", Id("keys-status").Text);
            ChromiumBrowser.SaveScreenshot(Browser, "admin-key-revoked");

            using (var refused = new HttpRequestMessage(HttpMethod.Get, "/v1beta/models"))
            {
                refused.Headers.Add("x-goog-api-key", key);
                using var answer = await anonymous.SendAsync(refused);
                Assert.False(answer.IsSuccessStatusCode);
                Assert.Contains("API key not valid", await answer.Content.ReadAsStringAsync());
            }

            // Usage across projects: the admin's usage page has the project filter and groups by project.
            Browser.FindElement(By.CssSelector("#nav button[data-page='usage']")).Click();
            Until(_ => Id("usage-project-field").Displayed);
            Choose("usage-by", "project");
            Id("usage-show").Click();
            Until(_ => Id("usage-summary").Text.Contains("every project", StringComparison.Ordinal));
            Assert.Equal("", Id("usage-error").Text);
            Id("usage-project").SendKeys("console-made");
            Id("usage-show").Click();
            Until(_ => Id("usage-summary").Text.Contains("project console-made", StringComparison.Ordinal));
            ChromiumBrowser.SaveScreenshot(Browser, "admin-usage");
        }
        finally
        {
            ChromiumBrowser.SaveScreenshot(Browser, "admin-end");
        }
    }

    /// <summary>
    /// The condition's answer, or null when the page re-rendered the table under it (each refresh replaces the rows, so an
    /// element found a moment ago may be gone): the wait then asks again.
    /// </summary>
    private static T? Fresh<T>(Func<T?> condition) where T : class
    {
        try
        {
            return condition();
        }
        catch (StaleElementReferenceException)
        {
            return null;
        }
    }

    /// <summary>Picks a select's option by value (Selenium's SelectElement is in a package this project does not use).</summary>
    private void Choose(string id, string value)
    {
        Browser.ExecuteScript("const s = arguments[0]; s.value = arguments[1]; s.dispatchEvent(new Event('change', { bubbles: true }));", Id(id), value);
        Assert.Equal(value, Id(id).GetDomProperty("value"));
    }
}
