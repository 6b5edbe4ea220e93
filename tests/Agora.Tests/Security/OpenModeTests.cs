using System.Net;
using Microsoft.Extensions.Options;
using static Agora.Tests.AgoraApplication;

namespace Agora.Tests.Security;

/// Without security configured, Agora is as before: open to anyone, on loopback only, and it says so.
public sealed class OpenModeTests
{
    [Fact]
    public async Task AnyoneMayReadAndWriteWithoutACredentialButNoKeyCanBeMinted()
    {
        await using var app = new AgoraApplication();
        using var client = app.CreateClient("lisboa");

        using var created = await client.PostAsync(EntitiesPath, Json(SecuredAgora.Building));
        using var read = await client.GetAsync(EntityPath("urn:ngsi-ld:Building:1"));
        using var key = await client.PostAsync("/admin/v1/apikeys", Json("""{"role": "consumer"}"""));

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        // Open, the administration API does not exist: a key minted now would stay valid once security is on.
        Assert.Equal(HttpStatusCode.NotFound, key.StatusCode);
    }

    [Fact]
    public async Task ACredentialIsIgnoredAndTheTokenEndpointIsAbsent()
    {
        await using var app = new AgoraApplication();
        using var client = app.CreateClient();
        client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", "Bearer garbage");

        using var read = await client.GetAsync(EntitiesPath + "?type=Building");
        using var token = await client.PostAsync("/oauth2/token", new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "client_credentials" }));

        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, token.StatusCode);
    }

    [Theory]
    [InlineData("0.0.0.0")]
    [InlineData("192.0.2.10")]
    [InlineData("::")]
    public async Task ANonLoopbackAddressIsRefusedUnlessSecured(string host)
    {
        await using var open = new AgoraApplication(("Agora:Host", host));
        await using var secured = SecuredAgora.Create(("Agora:Host", host));

        var refusal = Assert.Throws<OptionsValidationException>(() => open.CreateClient());
        using var client = secured.CreateClient();

        Assert.Contains("loopback", refusal.Message);
        Assert.NotNull(client);
    }

    [Theory]
    [InlineData("Agora:Security:Mode", "Closed")]
    [InlineData("Agora:Security:Authority", "https://idp.city.test/realms/city")]
    [InlineData("Agora:Security:RateLimit:PermitLimit", "-1")]
    public async Task AContradictoryOrIncompleteSecuritySettingStopsTheStart(string key, string value)
    {
        await using var app = new AgoraApplication((key, value), ("Agora:Security:Mode", key == "Agora:Security:Mode" ? value : key.EndsWith("Authority", StringComparison.Ordinal) ? "Secured" : "Open"));

        Assert.Throws<OptionsValidationException>(() => app.CreateClient());
    }

    [Fact]
    public async Task TheStartUpWarningRemainsInOpenMode()
    {
        var logs = new LogCapture();
        await using var agora = new AgoraApplication();
        await using var app = logs.Attach(agora);

        using var client = app.CreateClient();

        // The warning is written on ApplicationStarted, which may run just after the test host reports the start.
        for (var i = 0; i < 50 && !logs.Text.Contains("Security is not configured", StringComparison.Ordinal); i++)
        {
            await Task.Delay(100);
        }
        Assert.Contains("Security is not configured", logs.Text);
    }
}
