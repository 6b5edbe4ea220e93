using System.Net;
using Agora.Security;
using static Agora.Tests.AgoraApplication;
using static Agora.Tests.NgsiLdAssert;

namespace Agora.Tests.Security;

public sealed class AuthenticationTests
{
    [Fact]
    public async Task ARequestWithoutACredentialIsUnauthorizedWithAChallenge()
    {
        await using var app = SecuredAgora.Create();
        using var client = app.CreateClient();

        using var response = await client.GetAsync(EntitiesPath + "?type=Building");

        var problem = await ProblemAsync(response, HttpStatusCode.Unauthorized, "Unauthorized");
        Assert.Contains(response.Headers.WwwAuthenticate, h => h.Scheme == "Bearer");
        Assert.Contains(response.Headers.WwwAuthenticate, h => h.Scheme == "ApiKey");
        Assert.Contains("no credential", (string?)problem["detail"]);
    }

    [Fact]
    public async Task TheAdministrationApiNeedsACredentialToo()
    {
        await using var app = SecuredAgora.Create();
        using var client = app.CreateClient();

        using var response = await client.GetAsync("/admin/v1/apikeys");

        await ProblemAsync(response, HttpStatusCode.Unauthorized, "Unauthorized");
    }

    [Theory]
    [InlineData("agora_k0000000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("not-a-key")]
    [InlineData("agora_")]
    [InlineData("agora__")]
    public async Task AnUnknownOrMalformedApiKeyIsUnauthorized(string key)
    {
        await using var app = SecuredAgora.Create();
        using var client = app.Client(key);

        using var response = await client.GetAsync(EntitiesPath + "?type=Building");

        await ProblemAsync(response, HttpStatusCode.Unauthorized, "Unauthorized");
        var challenge = Assert.Single(response.Headers.WwwAuthenticate);
        Assert.Equal("ApiKey", challenge.Scheme);
        Assert.Contains("error=\"invalid_token\"", challenge.Parameter);
    }

    [Fact]
    public async Task AValidApiKeyInEitherHeaderIsAccepted()
    {
        await using var app = SecuredAgora.Create();
        var key = app.Key("", Role.Provider);
        using var viaAuthorization = app.Client(key);
        using var viaHeader = app.CreateClient();
        viaHeader.DefaultRequestHeaders.Add("X-Api-Key", key);

        using var created = await viaAuthorization.PostAsync(EntitiesPath, Json(SecuredAgora.Building));
        using var read = await viaHeader.GetAsync(EntityPath("urn:ngsi-ld:Building:1"));

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
    }

    [Fact]
    public async Task AnExpiredApiKeyIsUnauthorized()
    {
        await using var app = SecuredAgora.Create();
        var store = app.Services.GetService(typeof(SecurityStore)) as SecurityStore;
        var past = new Credentials(store!, new FixedTime(DateTimeOffset.UtcNow.AddDays(-10)));
        var (_, key) = past.CreateApiKey("", new CredentialRequest(Role.Admin, null, "old", DateTimeOffset.UtcNow.AddDays(-9), null));
        using var client = app.Client(key);

        using var response = await client.GetAsync(EntitiesPath + "?type=Building");

        await ProblemAsync(response, HttpStatusCode.Unauthorized, "Unauthorized");
    }

    [Fact]
    public async Task AnUnknownAuthorizationSchemeIsUnauthorized()
    {
        await using var app = SecuredAgora.Create();
        using var client = app.CreateClient();
        client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", "Basic YWRtaW46YWRtaW4=");

        using var response = await client.GetAsync(EntitiesPath + "?type=Building");

        await ProblemAsync(response, HttpStatusCode.Unauthorized, "Unauthorized");
        Assert.NotEmpty(response.Headers.WwwAuthenticate);
    }
}

/// A clock stopped at one instant.
internal sealed class FixedTime(DateTimeOffset now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => now;
}
