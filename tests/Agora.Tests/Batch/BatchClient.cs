using System.Net;
using System.Text.Json.Nodes;
using static Agora.Tests.AgoraApplication;
using static Agora.Tests.NgsiLdAssert;

namespace Agora.Tests.Batch;

/// Sends batch operations and reads their BatchOperationResult.
internal static class BatchClient
{
    public const string Operations = "/ngsi-ld/v1/entityOperations/";

    public static async Task<HttpResponseMessage> BatchAsync(this AgoraApplication app, string operation, string body, string query = "", string? tenant = null)
    {
        using var client = tenant is null ? app.CreateClient() : app.CreateClient(tenant);
        return await client.PostAsync(Operations + operation + query, Json(body));
    }

    /// A 207 answer: its success ids in order, and its errors by entity id as short error type names.
    public static async Task<(string[] Success, Dictionary<string, JsonObject> Errors)> MultiStatusAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.MultiStatus, $"Expected 207, got {(int)response.StatusCode}: {text}");
        var result = JsonNode.Parse(text)!.AsObject();
        var success = result["success"]!.AsArray().Select(i => (string)i!).ToArray();
        var errors = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        foreach (var entry in result["errors"]!.AsArray())
        {
            var error = entry!["error"]!.AsObject();
            Assert.StartsWith(ErrorTypes, (string?)error["type"]);
            Assert.False(string.IsNullOrEmpty((string?)error["title"]), $"An error has no title: {error.ToJsonString()}");
            errors.Add((string?)entry["entityId"] ?? "", error);
        }
        return (success, errors);
    }

    /// The short name of an error type ("AlreadyExists" for ".../errors/AlreadyExists").
    public static string TypeOf(JsonObject error) => ((string)error["type"]!)[ErrorTypes.Length..];

    /// Whether an entity exists, through GET /entities/{id}.
    public static async Task<bool> ExistsAsync(this AgoraApplication app, string id, string? tenant = null)
    {
        using var client = tenant is null ? app.CreateClient() : app.CreateClient(tenant);
        using var response = await client.GetAsync(EntityPath(id));
        Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.NotFound, $"GET {id}: {(int)response.StatusCode}");
        return response.StatusCode == HttpStatusCode.OK;
    }
}
