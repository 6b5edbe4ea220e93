using System.Net;
using System.Text.Json.Nodes;
using static Agora.Tests.AgoraApplication;

namespace Agora.Tests.Temporal;

/// What the temporal tests do over and over: write a history, read it back, and compare it with one worked out
/// by hand. Attribute names are plain (no Link header), so they expand through the core @vocab and compact back
/// to themselves.
internal static class TemporalClient
{
    public const string TemporalPath = "/ngsi-ld/v1/temporal/entities";
    public const string TemporalQueryPath = "/ngsi-ld/v1/temporal/entityOperations/query";
    public const string InstancePrefix = "urn:ngsi-ld:instance:";

    public static string HistoryPath(string id) => $"{TemporalPath}/{Uri.EscapeDataString(id)}";

    public static string HistoryAttrPath(string id, string attr) => $"{HistoryPath(id)}/attrs/{Uri.EscapeDataString(attr)}";

    /// Posts a new history and checks that it was created.
    public static async Task CreateHistoryAsync(this AgoraApplication app, string json, string? tenant = null)
    {
        using var client = tenant is null ? app.CreateClient() : app.CreateClient(tenant);
        using var response = await client.PostAsync(TemporalPath, Json(json));
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }

    /// GET /temporal/entities/{id}{query}, checking for 200.
    public static async Task<JsonObject> HistoryAsync(this AgoraApplication app, string id, string query = "", string? tenant = null)
    {
        using var client = tenant is null ? app.CreateClient() : app.CreateClient(tenant);
        using var response = await client.GetAsync(HistoryPath(id) + query);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {id}{query} answered {(int)response.StatusCode}: {body}");
        return JsonNode.Parse(body)!.AsObject();
    }

    /// GET /temporal/entities?{query}, checking for 200.
    public static async Task<JsonArray> TemporalQueryAsync(this AgoraApplication app, string query)
    {
        using var client = app.CreateClient();
        using var response = await client.GetAsync($"{TemporalPath}?{query}");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET ?{query} answered {(int)response.StatusCode}: {body}");
        return JsonNode.Parse(body)!.AsArray();
    }

    /// The ids of a query answer, in the order given.
    public static string[] IdsOf(JsonArray entities) => [.. entities.Select(e => (string)e!["id"]!)];

    /// A copy of a normalized temporal entity (or list of them) without instanceIds, after checking that every
    /// instance has one of Agora's form.
    public static JsonNode WithoutInstanceIds(JsonNode node)
    {
        var copy = node.DeepClone();
        foreach (var entity in copy is JsonArray list ? list.Select(e => e!.AsObject()) : [copy.AsObject()])
        {
            foreach (var (_, value) in entity)
            {
                if (value is not JsonArray instances)
                {
                    continue;
                }
                foreach (var instance in instances.OfType<JsonObject>())
                {
                    Assert.StartsWith(InstancePrefix, (string?)instance["instanceId"]);
                    instance.Remove("instanceId");
                }
            }
        }
        return copy;
    }

    /// The temporal entity equals the expected one, instanceIds aside.
    public static void HistoryEqual(string expected, JsonNode actual) => NgsiLdAssert.JsonEqual(expected, WithoutInstanceIds(actual));

    /// The values of an attribute's instances, in the order given.
    public static JsonNode?[] ValuesOf(JsonObject entity, string attr) =>
        [.. entity[attr]!.AsArray().Select(i => i!["value"]?.DeepClone())];

    /// An instant as a temporal query parameter wants it.
    public static string At(DateTimeOffset at) => Uri.EscapeDataString(at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", System.Globalization.CultureInfo.InvariantCulture));

    public static string Escape(string value) => Uri.EscapeDataString(value);

    /// A Vehicle history worked out once: speed 120, 80, 100 at 12:03, 12:05, 12:07 and fuelLevel 67, 53, 40 at
    /// 12:03, 13:05, 14:07 on 2020-08-01.
    public static string Vehicle(string id) => $$"""
        {
          "id": "{{id}}", "type": "Vehicle",
          "speed": [
            {"type": "Property", "value": 120, "observedAt": "2020-08-01T12:03:00Z"},
            {"type": "Property", "value": 80, "observedAt": "2020-08-01T12:05:00Z"},
            {"type": "Property", "value": 100, "observedAt": "2020-08-01T12:07:00Z"}
          ],
          "fuelLevel": [
            {"type": "Property", "value": 67, "observedAt": "2020-08-01T12:03:00Z"},
            {"type": "Property", "value": 53, "observedAt": "2020-08-01T13:05:00Z"},
            {"type": "Property", "value": 40, "observedAt": "2020-08-01T14:07:00Z"}
          ]
        }
        """;

    /// One normalized instance of a number Property.
    public static string P(object value, string observedAt) =>
        $$"""{"type": "Property", "value": {{System.Text.Json.JsonSerializer.Serialize(value)}}, "observedAt": "{{observedAt}}"}""";
}
