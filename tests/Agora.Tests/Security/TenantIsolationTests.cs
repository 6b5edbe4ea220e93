using System.Net;
using Agora.Security;
using static Agora.Tests.AgoraApplication;
using static Agora.Tests.NgsiLdAssert;

namespace Agora.Tests.Security;

/// A credential of one tenant can never read, write or even learn the existence of another tenant's data.
public sealed class TenantIsolationTests
{
    public static TheoryData<string, string, string?> Requests => new()
    {
        { "GET", EntitiesPath + "?type=Building", null },
        { "GET", EntityPath("urn:ngsi-ld:Building:1"), null },
        { "POST", EntitiesPath, SecuredAgora.Building },
        { "DELETE", EntityPath("urn:ngsi-ld:Building:1"), null },
        { "GET", "/ngsi-ld/v1/types", null },
        { "GET", "/ngsi-ld/v1/subscriptions", null },
        { "POST", "/ngsi-ld/v1/entityOperations/query", """{"type": "Query", "entities": [{"type": "Building"}]}""" },
        { "GET", "/admin/v1/apikeys", null },
        { "GET", "/admin/v1/audit", null },
    };

    [Theory]
    [MemberData(nameof(Requests))]
    public async Task AnotherTenantExistingOrNotGetsTheSameDenial(string method, string path, string? body)
    {
        await using var app = SecuredAgora.Create();
        using var valencia = app.Client(app.Key("valencia", Role.Admin), "valencia");
        using var seeded = await valencia.PostAsync(EntitiesPath, Json(SecuredAgora.Building));
        var madridKey = app.Key("madrid", Role.Admin);

        var existing = await SendAsync(app, madridKey, "valencia", method, path, body);
        var missing = await SendAsync(app, madridKey, "nowhere", method, path, body);
        var defaultTenant = await SendAsync(app, madridKey, null, method, path, body);

        Assert.Equal(HttpStatusCode.Created, seeded.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, existing.Status);
        Assert.Equal(existing, missing);
        Assert.Equal(existing, defaultTenant);
        Assert.Contains("another", existing.Body);
        Assert.Equal(12, (int)(await SecuredAgora.KeyValuesAsync(valencia, "urn:ngsi-ld:Building:1"))["height"]!);
    }

    [Fact]
    public async Task AnAdminSeesAndRevokesItsOwnTenantsKeysOnly()
    {
        await using var app = SecuredAgora.Create();
        using var valencia = app.Client(app.Key("valencia", Role.Admin), "valencia");
        using var madrid = app.Client(app.Key("madrid", Role.Admin), "madrid");
        using var created = await valencia.PostAsync("/admin/v1/apikeys", Json("""{"role": "consumer"}"""));
        var valenciaKeyId = (string)(await SecuredAgora.JsonAsync(created))["id"]!;

        using var listed = await madrid.GetAsync("/admin/v1/apikeys");
        using var foreign = await madrid.DeleteAsync($"/admin/v1/apikeys/{valenciaKeyId}");
        using var unknown = await madrid.DeleteAsync("/admin/v1/apikeys/k0123456789abcdef");
        using var foreignRead = await madrid.GetAsync($"/admin/v1/apikeys/{valenciaKeyId}");
        using var stillListed = await valencia.GetAsync($"/admin/v1/apikeys/{valenciaKeyId}");

        Assert.DoesNotContain(valenciaKeyId, await listed.Content.ReadAsStringAsync());
        Assert.DoesNotContain("valencia", await listed.Content.ReadAsStringAsync());
        await ProblemAsync(foreign, HttpStatusCode.NotFound, "ResourceNotFound");
        Assert.Equal(
            (await foreign.Content.ReadAsStringAsync()).Replace(valenciaKeyId, "ID", StringComparison.Ordinal),
            (await unknown.Content.ReadAsStringAsync()).Replace("k0123456789abcdef", "ID", StringComparison.Ordinal));
        await ProblemAsync(foreignRead, HttpStatusCode.NotFound, "ResourceNotFound");
        Assert.True((bool)(await SecuredAgora.JsonAsync(stillListed))["active"]!);
    }

    private static async Task<Answer> SendAsync(AgoraApplication app, string key, string? tenant, string method, string path, string? body)
    {
        using var client = app.Client(key, tenant);
        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = body is null ? null : Json(body) };
        using var response = await client.SendAsync(request);
        return new Answer(response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private sealed record Answer(HttpStatusCode Status, string Body);
}
