using System.Net;
using System.Security.Cryptography;
using Microsoft.IdentityModel.Tokens;
using static Agora.Tests.AgoraApplication;
using static Agora.Tests.NgsiLdAssert;

namespace Agora.Tests.Security;

/// Tokens of the city's own identity provider, validated by the standard JWT bearer handler from its metadata.
public sealed class ExternalProviderTests
{
    private readonly FakeIdentityProvider _idp = new();

    [Fact]
    public async Task AProviderTokenFromTheCitysIdentityProviderMayWrite()
    {
        await using var agora = new AgoraApplication(FakeIdentityProvider.Settings);
        await using var app = _idp.Trust(agora);
        using var client = Bearer(app, _idp.Token());

        using var created = await client.PostAsync(EntitiesPath, Json(SecuredAgora.Building));

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
    }

    [Fact]
    public async Task KeycloakRealmRolesAndATenantClaimAreRead()
    {
        await using var agora = new AgoraApplication([.. FakeIdentityProvider.Settings, ("Agora:Security:RoleClaim", "realm_access.roles")]);
        await using var app = _idp.Trust(agora);
        var token = _idp.Token(new Dictionary<string, object>
        {
            ["sub"] = "bob",
            ["tenant"] = "madrid",
            ["realm_access"] = new Dictionary<string, object> { ["roles"] = new[] { "offline_access", "consumer" } },
        });
        using var client = Bearer(app, token);
        client.DefaultRequestHeaders.Add("NGSILD-Tenant", "madrid");

        using var read = await client.GetAsync(EntitiesPath + "?type=Building");
        using var write = await client.PostAsync(EntitiesPath, Json(SecuredAgora.Building));

        Assert.NotEqual(HttpStatusCode.Unauthorized, read.StatusCode);
        Assert.NotEqual(HttpStatusCode.Forbidden, read.StatusCode);
        var problem = await ProblemAsync(write, HttpStatusCode.Forbidden, "AccessDenied");
        Assert.Contains("write", (string?)problem["detail"]);
    }

    [Fact]
    public async Task TheTypesClaimLimitsAProvider()
    {
        await using var agora = new AgoraApplication(FakeIdentityProvider.Settings);
        await using var app = _idp.Trust(agora);
        using var client = Bearer(app, _idp.Token(new Dictionary<string, object>
        {
            ["sub"] = "parking-operator",
            ["roles"] = new[] { "provider" },
            ["entity_types"] = new[] { "OffStreetParking" },
        }));

        using var parking = await client.PostAsync(EntitiesPath, Json("""{"id": "urn:ngsi-ld:OffStreetParking:1", "type": "OffStreetParking"}"""));
        using var building = await client.PostAsync(EntitiesPath, Json(SecuredAgora.Building));

        Assert.Equal(HttpStatusCode.Created, parking.StatusCode);
        await ProblemAsync(building, HttpStatusCode.Forbidden, "AccessDenied");
    }

    [Fact]
    public async Task AValidTokenWithoutAnAgoraRoleIsForbidden()
    {
        await using var agora = new AgoraApplication(FakeIdentityProvider.Settings);
        await using var app = _idp.Trust(agora);
        using var client = Bearer(app, _idp.Token(new Dictionary<string, object> { ["sub"] = "carol", ["roles"] = new[] { "viewer" } }));

        using var response = await client.GetAsync(EntitiesPath + "?type=Building");

        var problem = await ProblemAsync(response, HttpStatusCode.Forbidden, "AccessDenied");
        Assert.Contains("no role", (string?)problem["detail"]);
    }

    public static TheoryData<string, string> BadTokens => new()
    {
        { "expired", "expired" },
        { "tampered", "signature" },
        { "wrong audience", "audience" },
        { "wrong issuer", "issuer" },
        { "foreign key", "signature" },
        { "malformed", "malformed" },
        { "garbage", "malformed" },
    };

    [Theory]
    [MemberData(nameof(BadTokens))]
    public async Task ABadTokenIsUnauthorizedWithAnInvalidTokenChallenge(string kind, string named)
    {
        await using var agora = new AgoraApplication(FakeIdentityProvider.Settings);
        await using var app = _idp.Trust(agora);
        var token = kind switch
        {
            "expired" => _idp.Token(expires: DateTime.UtcNow.AddMinutes(-5)),
            "tampered" => Tamper(_idp.Token()),
            "wrong audience" => _idp.Token(audience: "another-service"),
            "wrong issuer" => _idp.Token(issuer: "https://evil.test/realms/city"),
            "foreign key" => _idp.Token(key: new RsaSecurityKey(RSA.Create(2048)) { KeyId = "city-key-1" }),
            "malformed" => "abc.def",
            _ => "%%%not a token%%%",
        };
        using var client = Bearer(app, token);

        using var response = await client.GetAsync(EntitiesPath + "?type=Building");

        var problem = await ProblemAsync(response, HttpStatusCode.Unauthorized, "Unauthorized");
        Assert.Contains(named, (string?)problem["detail"]);
        var challenge = Assert.Single(response.Headers.WwwAuthenticate);
        Assert.Equal("Bearer", challenge.Scheme);
        Assert.Contains("error=\"invalid_token\"", challenge.Parameter);
        Assert.DoesNotContain(token, await response.Content.ReadAsStringAsync());
    }

    // The payload is changed (a provider becomes an admin); the signature is left as it was.
    private static string Tamper(string token)
    {
        var parts = token.Split('.');
        var payload = Base64UrlEncoder.Decode(parts[1]).Replace("\"provider\"", "\"admin\"", StringComparison.Ordinal);
        return $"{parts[0]}.{Base64UrlEncoder.Encode(payload)}.{parts[2]}";
    }

    private static HttpClient Bearer(Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactory<Program> app, string token)
    {
        var client = app.CreateClient();
        client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", "Bearer " + token);
        return client;
    }
}
