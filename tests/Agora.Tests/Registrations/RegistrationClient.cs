using System.Net;
using System.Text.Json.Nodes;
using static Agora.Tests.AgoraApplication;

namespace Agora.Tests.Registrations;

/// Context source registration requests.
internal static class RegistrationClient
{
    public const string RegistrationsPath = "/ngsi-ld/v1/csourceRegistrations";

    public static string RegistrationPath(string id) => $"{RegistrationsPath}/{Uri.EscapeDataString(id)}";

    /// A registration of Buildings' name and owner at a source, with more members spliced in by extra.
    public static string Registration(string id, string extra = "", string information = """[{"entities": [{"type": "Building"}], "propertyNames": ["name"], "relationshipNames": ["owner"]}]""") => $$"""
        {"id": "{{id}}", "type": "ContextSourceRegistration", "information": {{information}},
         "endpoint": "http://source.example.org:1026"{{extra}}}
        """;

    public static async Task<HttpResponseMessage> CreateAsync(AgoraApplication app, string json, string mediaType = "application/json", string? tenant = null)
    {
        using var client = tenant is null ? app.CreateClient() : app.CreateClient(tenant);
        return await client.PostAsync(RegistrationsPath, Json(json, mediaType));
    }

    public static async Task RegisterAsync(AgoraApplication app, string json, string? tenant = null)
    {
        using var response = await CreateAsync(app, json, tenant: tenant);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
    }

    public static async Task<JsonObject> RetrieveAsync(AgoraApplication app, string id, string query = "")
    {
        using var client = app.CreateClient();
        using var response = await client.GetAsync(RegistrationPath(id) + query);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
    }

    public static async Task<HttpResponseMessage> PatchAsync(AgoraApplication app, string id, string json)
    {
        using var client = app.CreateClient();
        return await client.PatchAsync(RegistrationPath(id), Json(json));
    }

    /// The ids a query answers with, in order, checking for 200.
    public static async Task<List<string>> QueryIdsAsync(AgoraApplication app, string query)
    {
        using var client = app.CreateClient();
        using var response = await client.GetAsync(RegistrationsPath + query);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        return [.. JsonNode.Parse(body)!.AsArray().Select(r => (string)r!["id"]!)];
    }
}
