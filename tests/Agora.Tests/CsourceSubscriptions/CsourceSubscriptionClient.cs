using System.Net;
using System.Text.Json.Nodes;
using static Agora.Tests.AgoraApplication;

namespace Agora.Tests.CsourceSubscriptions;

/// Context source registration subscription requests.
internal static class CsourceSubscriptionClient
{
    public const string CsourceSubscriptionsPath = "/ngsi-ld/v1/csourceSubscriptions";

    public static string CsourceSubscriptionPath(string id) => $"{CsourceSubscriptionsPath}/{Uri.EscapeDataString(id)}";

    /// A subscription to registrations of Buildings, notifying uri, with more members spliced in by extra.
    public static string CsourceSubscription(string id, string extra = "", string uri = "http://localhost:1234/notify") => $$$"""
        {"id": "{{{id}}}", "type": "Subscription", "entities": [{"type": "Building"}]{{{extra}}},
         "notification": {"endpoint": {"uri": "{{{uri}}}", "accept": "application/json"}}
        }
        """;

    public static async Task<HttpResponseMessage> CreateAsync(AgoraApplication app, string json, string? tenant = null, string mediaType = "application/json")
    {
        using var client = tenant is null ? app.CreateClient() : app.CreateClient(tenant);
        return await client.PostAsync(CsourceSubscriptionsPath, Json(json, mediaType));
    }

    public static async Task SubscribeAsync(AgoraApplication app, string json, string? tenant = null)
    {
        using var response = await CreateAsync(app, json, tenant);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
    }

    public static async Task<HttpResponseMessage> GetAsync(AgoraApplication app, string path, string? tenant = null)
    {
        using var client = tenant is null ? app.CreateClient() : app.CreateClient(tenant);
        return await client.GetAsync(path);
    }

    public static async Task<JsonNode> ReadAsync(AgoraApplication app, string path)
    {
        using var response = await GetAsync(app, path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
    }

    public static async Task<HttpResponseMessage> SendAsync(AgoraApplication app, HttpMethod method, string path, string? json = null)
    {
        using var client = app.CreateClient();
        using var request = new HttpRequestMessage(method, path) { Content = json is null ? null : Json(json) };
        return await client.SendAsync(request);
    }
}
