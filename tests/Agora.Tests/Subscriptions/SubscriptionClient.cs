using System.Net;
using System.Text.Json.Nodes;
using Agora.Storage;
using Microsoft.Extensions.DependencyInjection;
using static Agora.Tests.AgoraApplication;

namespace Agora.Tests.Subscriptions;

/// Subscription requests and a look into the outbox, where notifications wait for delivery.
internal static class SubscriptionClient
{
    public const string SubscriptionsPath = "/ngsi-ld/v1/subscriptions";

    public static string SubscriptionPath(string id) => $"{SubscriptionsPath}/{Uri.EscapeDataString(id)}";

    public static string Subscription(string id, string extra = "", string notification = "") => $$$"""
        {"id": "{{{id}}}", "type": "Subscription", "entities": [{"type": "Building"}]{{{extra}}},
         "notification": {"endpoint": {"uri": "http://localhost:1234/notify", "accept": "application/json"}{{{notification}}}}}
        """;

    public static async Task<HttpResponseMessage> CreateAsync(AgoraApplication app, string json, string mediaType = "application/json")
    {
        using var client = app.CreateClient();
        return await client.PostAsync(SubscriptionsPath, Json(json, mediaType));
    }

    public static async Task SubscribeAsync(AgoraApplication app, string json)
    {
        using var response = await CreateAsync(app, json);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    public static async Task<JsonObject> RetrieveAsync(AgoraApplication app, string id, string query = "")
    {
        using var client = app.CreateClient();
        using var response = await client.GetAsync(SubscriptionPath(id) + query);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
    }

    public static async Task<HttpResponseMessage> PatchAsync(AgoraApplication app, string id, string json)
    {
        using var client = app.CreateClient();
        return await client.PatchAsync(SubscriptionPath(id), Json(json));
    }

    public static async Task SendAsync(AgoraApplication app, HttpMethod method, string path, string? json = null)
    {
        using var client = app.CreateClient();
        using var request = new HttpRequestMessage(method, path) { Content = json is null ? null : Json(json) };
        using var response = await client.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode, $"{method} {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    /// The outbox rows of the default tenant, oldest first.
    public static List<OutboxEntry> Outbox(AgoraApplication app) =>
        app.Services.GetRequiredService<TenantStores>().Existing(TenantStores.DefaultTenant).Read(c =>
        {
            using var command = c.CreateCommand();
            command.CommandText = "SELECT subscription_id, endpoint, content_type, link, body FROM outbox ORDER BY nid";
            using var reader = command.ExecuteReader();
            var rows = new List<OutboxEntry>();
            while (reader.Read())
            {
                rows.Add(new OutboxEntry(reader.GetString(0), JsonNode.Parse(reader.GetString(1))!.AsObject(), reader.GetString(2),
                    reader.IsDBNull(3) ? null : reader.GetString(3), JsonNode.Parse(reader.GetString(4))!.AsObject()));
            }
            return rows;
        });

    /// The only entity of the only notification in the outbox.
    public static JsonObject SingleData(AgoraApplication app)
    {
        var row = Assert.Single(Outbox(app));
        return Assert.Single(row.Body["data"]!.AsArray())!.AsObject();
    }
}

internal sealed record OutboxEntry(string SubscriptionId, JsonObject Endpoint, string ContentType, string? Link, JsonObject Body);
