using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Agora.Bench;

/// The reads of the market: GET one entity and the type + q query of the open run, asked again of the same
/// store served in Secured mode, with the city's admin key, with one agreement's key, and with a consumer
/// account's key, which reads through the union of its three agreements. The city sets the market up as its
/// README says: three data sources (every type of the city; OffStreetParking with three attributes;
/// Streetlight), an open offering of each, one account that agrees to all three. The per-credential rate limit
/// is off: agreements meter through their quotas (none here), and the limit would measure itself.
internal static class MarketPaths
{
    public const string Secured = " --Agora:Security:Mode Secured --Agora:Security:RateLimit:PermitLimit 0";

    /// Where a Secured Agora answers without a credential: whether sign-up is open.
    public const string Probe = "/market/v1/signup";

    /// An admin key of the default tenant, made with Agora's command line on the stopped server's data.
    public static async Task<string> AdminKeyAsync(string agoraDll, string data, string store)
    {
        var start = new ProcessStartInfo("dotnet", $"\"{agoraDll}\" admin create-key --tenant \"\" --role admin --data \"{data}\"{store}")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var cli = Process.Start(start)!;
        var output = await cli.StandardOutput.ReadToEndAsync();
        var errors = await cli.StandardError.ReadToEndAsync();
        await cli.WaitForExitAsync();
        return output.Split('\n').Select(l => l.Trim()).LastOrDefault(l => l.StartsWith("agora_", StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"agora admin create-key printed no key: {output} {errors}");
    }

    /// The market of the run: returns the key of the agreement on every type, and the account's key.
    public static async Task<(string Agreement, string Account)> AgreementsAsync(string agoraUrl, string admin)
    {
        using var http = new HttpClient { BaseAddress = new Uri(agoraUrl) };
        async Task<JsonNode> PostAsync(string path, object? body, string key)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = body is null ? null : JsonContent.Create(body) };
            request.Headers.Add("X-Api-Key", key);
            using var response = await http.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            return response.IsSuccessStatusCode ? JsonNode.Parse(text)! : throw new InvalidOperationException($"POST {path}: {(int)response.StatusCode} {text}");
        }
        var sources = new object[]
        {
            new { name = "The whole city", entityTypes = SyntheticCity.Types },
            new { name = "Car parks", entityTypes = new[] { "OffStreetParking" }, attributes = new[] { "availableSpotNumber", "totalSpotNumber", "location" } },
            new { name = "Streetlights", entityTypes = new[] { "Streetlight" } },
        };
        var account = (string)(await PostAsync("/market/v1/consumers", new { name = "Bench Mobility" }, admin))["key"]!;
        string? first = null;
        foreach (var source in sources)
        {
            var dataSource = (string)(await PostAsync("/market/v1/datasources", source, admin))["id"]!;
            var offering = (string)(await PostAsync("/market/v1/offerings", new
            {
                dataSource, title = "Bench", licence = "CC-BY-4.0", accessMode = "open", pricePlan = new { type = "free" },
            }, admin))["id"]!;
            await PostAsync($"/market/v1/offerings/{offering}/publish", null, admin);
            // An open offering's agreement is active at once; the account's request carries the agreement's key.
            var agreement = await PostAsync("/market/v1/agreements", new { offering }, account);
            first ??= (string)agreement["key"]!;
        }
        return (first!, account);
    }

    /// Each read with the three credentials; the first of each three (the admin's) is what the others are
    /// compared with.
    public static IEnumerable<Workload> Workloads(Workload get, Workload query, string admin, string agreement, string account)
    {
        foreach (var (path, name) in new[] { (get, "GET one entity"), (query, "type + q query") })
        {
            yield return path with { Name = name + ", admin key", ApiKey = admin };
            yield return path with { Name = name + ", agreement", ApiKey = agreement };
            yield return path with { Name = name + ", union of 3", ApiKey = account };
        }
    }
}
