using System.Net;
using System.Text.Json.Nodes;
using Agora.Security;
using static Agora.Tests.AgoraApplication;
using static Agora.Tests.NgsiLdAssert;

namespace Agora.Tests.Security;

/// Agora's own OAuth2 token endpoint (client credentials, OpenIddict), for cities without an identity provider.
public sealed class IssuerTests
{
    [Fact]
    public async Task AClientCreatedByAnAdminGetsATokenThatWorksWithItsRole()
    {
        await using var app = SecuredAgora.Create();
        var (clientId, secret) = await CreateClientAsync(app, """{"role": "consumer", "name": "city dashboard"}""");

        var token = await TokenAsync(app, clientId, secret);
        using var client = app.BearerClient(token);
        using var read = await client.GetAsync(EntitiesPath + "?type=Building");
        using var write = await client.PostAsync(EntitiesPath, Json(SecuredAgora.Building));

        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        await ProblemAsync(write, HttpStatusCode.Forbidden, "AccessDenied");
    }

    [Fact]
    public async Task AWrongSecretGetsNoToken()
    {
        await using var app = SecuredAgora.Create();
        var (clientId, _) = await CreateClientAsync(app, """{"role": "provider"}""");
        using var client = app.CreateClient();

        using var response = await client.PostAsync(TokenIssuer.TokenPath, Form(clientId, "wrong-secret"));

        Assert.False(response.IsSuccessStatusCode);
        Assert.Equal("invalid_client", (string?)(await SecuredAgora.JsonAsync(response))["error"]);
    }

    [Fact]
    public async Task ARevokedClientsTokenStopsWorkingAtOnce()
    {
        await using var app = SecuredAgora.Create();
        var (clientId, secret) = await CreateClientAsync(app, """{"role": "provider"}""");
        var token = await TokenAsync(app, clientId, secret);
        using var admin = app.Client(app.Key("", Role.Admin));

        using var revoked = await admin.DeleteAsync($"/admin/v1/clients/{clientId}");
        using var client = app.BearerClient(token);
        using var response = await client.GetAsync(EntitiesPath + "?type=Building");

        Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        await ProblemAsync(response, HttpStatusCode.Unauthorized, "Unauthorized");
    }

    [Fact]
    public async Task TokensOutliveARestartBecauseTheSigningKeyIsKept()
    {
        var data = Path.Combine(Path.GetTempPath(), "agora-tests", Guid.NewGuid().ToString("N"));
        try
        {
            string token;
            await using (var first = SecuredAgora.Create(("Agora:Data", data)))
            {
                var (clientId, secret) = await CreateClientAsync(first, """{"role": "consumer"}""");
                token = await TokenAsync(first, clientId, secret);
            }
            await using var second = SecuredAgora.Create(("Agora:Data", data));
            using var client = second.BearerClient(token);

            using var response = await client.GetAsync(EntitiesPath + "?type=Building");

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task AnAgoraTokenIsAcceptedBesideAnExternalProvider()
    {
        var idp = new FakeIdentityProvider();
        await using var agora = new AgoraApplication(FakeIdentityProvider.Settings);
        await using var app = idp.Trust(agora);
        var key = app.Services.GetService(typeof(Credentials)) is Credentials c
            ? c.CreateApiKey("", new CredentialRequest(Role.Admin, null, null, DateTimeOffset.UtcNow.AddDays(1), null)).Key
            : throw new InvalidOperationException();
        using var admin = app.CreateClient();
        admin.DefaultRequestHeaders.Add("X-Api-Key", key);
        using var created = await admin.PostAsync("/admin/v1/clients", Json("""{"role": "consumer"}"""));
        var body = await SecuredAgora.JsonAsync(created);
        using var tokenClient = app.CreateClient();
        using var tokenResponse = await tokenClient.PostAsync(TokenIssuer.TokenPath, Form((string)body["clientId"]!, (string)body["clientSecret"]!));
        var token = (string)(await SecuredAgora.JsonAsync(tokenResponse))["access_token"]!;
        using var client = app.CreateClient();
        client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", "Bearer " + token);

        using var response = await client.GetAsync(EntitiesPath + "?type=Building");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    internal static async Task<(string ClientId, string Secret)> CreateClientAsync(AgoraApplication app, string body, string tenant = "")
    {
        using var admin = app.Client(app.Key(tenant, Role.Admin), tenant == "" ? null : tenant);
        using var response = await admin.PostAsync("/admin/v1/clients", Json(body));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = await SecuredAgora.JsonAsync(response);
        return ((string)created["clientId"]!, (string)created["clientSecret"]!);
    }

    internal static async Task<string> TokenAsync(AgoraApplication app, string clientId, string secret)
    {
        using var client = app.CreateClient();
        using var response = await client.PostAsync(TokenIssuer.TokenPath, Form(clientId, secret));
        var body = await SecuredAgora.JsonAsync(response);
        Assert.True(response.IsSuccessStatusCode, body.ToJsonString());
        Assert.Equal("Bearer", (string?)body["token_type"], ignoreCase: true);
        return (string)body["access_token"]!;
    }

    private static FormUrlEncodedContent Form(string clientId, string secret) => new(new Dictionary<string, string>
    {
        ["grant_type"] = "client_credentials",
        ["client_id"] = clientId,
        ["client_secret"] = secret,
    });
}
