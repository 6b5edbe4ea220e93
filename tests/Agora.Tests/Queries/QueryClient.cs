using System.Net;
using System.Text.Json.Nodes;
using static Agora.Tests.AgoraApplication;

namespace Agora.Tests.Queries;

/// What the query tests do over and over: seed a tenant in one batch, then ask GET /entities. The table
/// assertions run many queries against one application (starting one costs more than a hundred queries) and
/// report every query that failed, not just the first.
internal static class QueryClient
{
    public const string BatchCreatePath = "/ngsi-ld/v1/entityOperations/create";
    public const string QueryPath = "/ngsi-ld/v1/entityOperations/query";

    /// Creates every entity of a JSON array in one batch and checks that all were created.
    public static async Task SeedAsync(this AgoraApplication app, string entities, string? tenant = null)
    {
        using var client = tenant is null ? app.CreateClient() : app.CreateClient(tenant);
        using var response = await client.PostAsync(BatchCreatePath, Json(entities));
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
    }

    /// The entities GET /entities?{query} answers, checking for 200.
    public static async Task<JsonArray> QueryAsync(this AgoraApplication app, string query, string? tenant = null)
    {
        using var client = tenant is null ? app.CreateClient() : app.CreateClient(tenant);
        using var response = await client.GetAsync($"{EntitiesPath}?{query}");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET ?{query} answered {(int)response.StatusCode}: {body}");
        return JsonNode.Parse(body)!.AsArray();
    }

    /// The ids GET /entities?{query} answers, sorted, for comparison with an expected set.
    public static async Task<string[]> IdsAsync(this AgoraApplication app, string query, string? tenant = null) =>
        IdsOf(await app.QueryAsync(query, tenant));

    public static string[] IdsOf(JsonArray entities) =>
        [.. entities.Select(e => (string)e!["id"]!).Order(StringComparer.Ordinal)];

    /// For each value of one query parameter (escaped here), the query answers exactly the expected ids.
    public static async Task AssertIdsAsync(this AgoraApplication app, string prefix, string parameter, params (string Value, string[] Expected)[] cases)
    {
        var failures = new List<string>();
        foreach (var (value, expected) in cases)
        {
            var query = $"{prefix}{parameter}={Escape(value)}";
            var actual = await app.IdsAsync(query);
            if (!actual.SequenceEqual(expected.Order(StringComparer.Ordinal)))
            {
                failures.Add($"{parameter}={value}: expected [{string.Join(", ", expected)}] but got [{string.Join(", ", actual)}]");
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    /// Each request (a path and query) is answered with this NGSI-LD error; returns the problems in order.
    public static async Task<List<JsonObject>> AssertEachRejectedAsync(this AgoraApplication app, HttpStatusCode status, string errorType, params string[] paths)
    {
        var problems = new List<JsonObject>();
        var failures = new List<string>();
        using var client = app.CreateClient();
        foreach (var path in paths)
        {
            using var response = await client.GetAsync(path);
            var body = await response.Content.ReadAsStringAsync();
            var problem = JsonNode.Parse(body.Length == 0 ? "null" : body) as JsonObject;
            if (response.StatusCode != status || (string?)problem?["type"] != NgsiLdAssert.ErrorTypes + errorType)
            {
                failures.Add($"{path}: {(int)response.StatusCode} {body[..Math.Min(body.Length, 300)]}");
            }
            problems.Add(problem ?? []);
        }
        Assert.True(failures.Count == 0, $"Expected {(int)status} {errorType} for each of these:\n" + string.Join("\n", failures));
        return problems;
    }

    public static string Escape(string value) => Uri.EscapeDataString(value);

    public static string[] None => [];
}
