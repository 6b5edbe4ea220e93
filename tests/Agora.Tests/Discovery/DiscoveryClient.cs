using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using static Agora.Tests.AgoraApplication;

namespace Agora.Tests.Discovery;

/// Reads the discovery endpoints, optionally in the terms of a user @context hosted by Agora itself.
internal static class DiscoveryClient
{
    public const string Base = "/ngsi-ld/v1";

    /// Hosts an @context on the broker (POST /jsonldContexts) and returns the Link header that names it.
    public static async Task<string> HostContextAsync(this AgoraApplication app, string terms)
    {
        using var client = app.CreateClient();
        using var content = new StringContent($$"""{"@context": {{terms}}}""", Encoding.UTF8, "application/json");
        using var response = await client.PostAsync(Base + "/jsonldContexts", content);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return $"<{new Uri(client.BaseAddress!, response.Headers.Location!)}>; rel=\"http://www.w3.org/ns/json-ld#context\"; type=\"application/ld+json\"";
    }

    public static async Task<HttpResponseMessage> GetAsync(this AgoraApplication app, string path, string? link = null, string? tenant = null)
    {
        using var client = tenant is null ? app.CreateClient() : app.CreateClient(tenant);
        using var request = new HttpRequestMessage(HttpMethod.Get, Base + path);
        if (link is not null)
        {
            request.Headers.TryAddWithoutValidation("Link", link);
        }
        return await client.SendAsync(request);
    }

    /// The JSON a discovery endpoint answers, checking for 200.
    public static async Task<JsonNode> DiscoverAsync(this AgoraApplication app, string path, string? link = null, string? tenant = null)
    {
        using var response = await app.GetAsync(path, link, tenant);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path}: {(int)response.StatusCode} {body}");
        return JsonNode.Parse(body)!;
    }

    /// The strings of a JSON array, sorted: discovery lists have no order the specification promises.
    public static string[] Sorted(JsonNode? list) => [.. list!.AsArray().Select(n => (string)n!).Order(StringComparer.Ordinal)];

    /// Creates entities written in the terms of a Link header (or the core context) and checks they were created.
    public static async Task SeedAsync(this AgoraApplication app, string entities, string? link = null, string? tenant = null)
    {
        using var client = tenant is null ? app.CreateClient() : app.CreateClient(tenant);
        using var request = new HttpRequestMessage(HttpMethod.Post, Base + "/entityOperations/create") { Content = Json(entities) };
        if (link is not null)
        {
            request.Headers.TryAddWithoutValidation("Link", link);
        }
        using var response = await client.SendAsync(request);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
    }
}
