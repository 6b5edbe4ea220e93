using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Agora.Security;
using Microsoft.Extensions.DependencyInjection;

namespace Agora.Tests.Security;

/// An Agora in Secured mode, and the credentials its tests need, made the way an admin would get them.
internal static class SecuredAgora
{
    public const string Building = """{"id": "urn:ngsi-ld:Building:1", "type": "Building", "height": 12}""";

    public static AgoraApplication Create(params (string Key, string Value)[] settings) =>
        new([("Agora:Security:Mode", "Secured"), .. settings]);

    /// A new API key, straight from the credential service (the admin API and the CLI are tested on their own).
    public static string Key(this AgoraApplication app, string tenant, Role role, string[]? types = null, int? rateLimit = null, DateTimeOffset? expiresAt = null)
    {
        var request = new CredentialRequest(role, types?.Select(SecurityAuthentication.ExpandType).ToList(), "test", expiresAt ?? DateTimeOffset.UtcNow.AddDays(1), rateLimit);
        return app.Services.GetRequiredService<Credentials>().CreateApiKey(tenant, request).Key;
    }

    /// The secret part of an API key (agora_{id}_{secret}); the secret itself may contain '_'.
    public static string SecretOf(string key) => key[(key.IndexOf('_', "agora_".Length) + 1)..];

    /// A client sending this API key, and the tenant header when a tenant is named.
    public static HttpClient Client(this AgoraApplication app, string key, string? tenant = null)
    {
        var client = tenant is null ? app.CreateClient() : app.CreateClient(tenant);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("ApiKey", key);
        return client;
    }

    public static HttpClient BearerClient(this AgoraApplication app, string token, string? tenant = null)
    {
        var client = tenant is null ? app.CreateClient() : app.CreateClient(tenant);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    /// The entity in keyValues form, read with this client, checking for 200.
    public static async Task<JsonObject> KeyValuesAsync(HttpClient client, string id)
    {
        using var response = await client.GetAsync(AgoraApplication.EntityPath(id) + "?options=keyValues");
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        return (await JsonAsync(response)).AsObject();
    }

    public static async Task<JsonNode> JsonAsync(HttpResponseMessage response) =>
        JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
}
