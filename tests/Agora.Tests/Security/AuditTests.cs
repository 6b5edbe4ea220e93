using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Agora.Security;
using Microsoft.Extensions.DependencyInjection;
using static Agora.Tests.AgoraApplication;

namespace Agora.Tests.Security;

/// Every decision is written to an append-only log a tenant's admin can query and export, without a secret in it.
public sealed class AuditTests
{
    [Fact]
    public async Task EachDecisionIsAuditedAndExportedAsJsonLines()
    {
        await using var app = SecuredAgora.Create(("Agora:Security:RateLimit:PermitLimit", "2"), ("Agora:Security:RateLimit:Window", "00:00:30"));
        var adminKey = app.Key("", Role.Admin);
        var consumerKey = app.Key("", Role.Consumer);
        using var anonymous = app.CreateClient();
        using var consumer = app.Client(consumerKey);
        using var admin = app.Client(adminKey);

        (await anonymous.GetAsync(EntitiesPath + "?type=Building")).Dispose();
        (await consumer.GetAsync(EntitiesPath + "?type=Building&secret=hunter2")).Dispose();
        (await consumer.PostAsync(EntitiesPath, Json(SecuredAgora.Building))).Dispose();
        (await consumer.GetAsync(EntitiesPath + "?type=Building")).Dispose();
        using var created = await admin.PostAsync("/admin/v1/apikeys", Json("""{"role": "provider"}"""));
        var newKey = (string)(await SecuredAgora.JsonAsync(created))["key"]!;
        using var request = new HttpRequestMessage(HttpMethod.Get, "/admin/v1/audit");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/x-ndjson"));
        using var export = await admin.SendAsync(request);
        var text = await export.Content.ReadAsStringAsync();

        Assert.Equal("application/x-ndjson", export.Content.Headers.ContentType?.MediaType);
        var entries = text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonNode.Parse(line)!.AsObject()).ToList();
        Assert.Contains(entries, e => (string?)e["decision"] == "unauthenticated" && e["actor"] is null);
        Assert.Contains(entries, e => (string?)e["decision"] == "allowed" && (string?)e["action"] == "GET /ngsi-ld/v1/entities");
        Assert.Contains(entries, e => (string?)e["decision"] == "denied" && ((string?)e["reason"])!.Contains("write", StringComparison.Ordinal));
        Assert.Contains(entries, e => (string?)e["decision"] == "throttled");
        Assert.Contains(entries, e => (string?)e["decision"] == "changed" && ((string?)e["reason"])!.StartsWith("created API key", StringComparison.Ordinal));
        Assert.All(entries, e => Assert.NotNull((string?)e["time"]));
        foreach (var secret in new[] { adminKey, consumerKey, newKey, "hunter2" })
        {
            Assert.DoesNotContain(Secret(secret), text);
        }
    }

    [Fact]
    public async Task AFailedTokenRequestNamesNoActorAndKeepsNoneOfWhatWasTyped()
    {
        await using var app = SecuredAgora.Create();
        using var admin = app.Client(app.Key("", Role.Admin));
        using var anonymous = app.CreateClient();
        const string Typed = "pasted-secret-by-mistake-0123456789";

        using var token = await anonymous.PostAsync("/oauth2/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials", ["client_id"] = Typed, ["client_secret"] = "wrong",
        }));
        using var export = await admin.GetAsync("/admin/v1/audit?decision=unauthenticated&format=jsonl");
        var text = await export.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.Unauthorized, token.StatusCode);
        var entry = text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonNode.Parse(line)!)
            .Single(e => (string?)e["action"] == "POST /oauth2/token");
        Assert.Null(entry["actor"]);
        Assert.DoesNotContain(Typed, text);
    }

    [Fact]
    public async Task TheLogIsFilteredByDecisionAndActorAndScopedToTheTenant()
    {
        await using var app = SecuredAgora.Create();
        using var admin = app.Client(app.Key("", Role.Admin));
        using var consumer = app.Client(app.Key("", Role.Consumer));
        using var elsewhere = app.Client(app.Key("bilbao", Role.Consumer), "bilbao");
        (await consumer.DeleteAsync(EntityPath("urn:ngsi-ld:Building:1"))).Dispose();
        (await elsewhere.DeleteAsync(EntityPath("urn:ngsi-ld:Building:1"))).Dispose();

        using var denied = await admin.GetAsync("/admin/v1/audit?decision=denied");
        var entries = (await SecuredAgora.JsonAsync(denied)).AsArray();

        Assert.Equal(HttpStatusCode.OK, denied.StatusCode);
        var entry = Assert.Single(entries)!;
        Assert.Equal("", (string?)entry["tenant"]);
        Assert.Equal("DELETE /ngsi-ld/v1/entities/urn:ngsi-ld:Building:1", (string?)entry["action"]);
        using var byActor = await admin.GetAsync($"/admin/v1/audit?actor={(string)entry["actor"]!}&format=jsonl");
        Assert.All((await byActor.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries),
            line => Assert.Equal((string?)entry["actor"], (string?)JsonNode.Parse(line)!["actor"]));
    }

    [Theory]
    [InlineData("?limit=0")]
    [InlineData("?limit=lots")]
    [InlineData("?after=-1")]
    [InlineData("?from=yesterday")]
    [InlineData("?format=xml")]
    public async Task ABadAuditQueryIsAnNgsiLdError(string query)
    {
        await using var app = SecuredAgora.Create();
        using var admin = app.Client(app.Key("", Role.Admin));

        using var response = await admin.GetAsync("/admin/v1/audit" + query);

        await NgsiLdAssert.ProblemAsync(response, HttpStatusCode.BadRequest, "BadRequestData");
    }

    // A path or name may hold what PostgreSQL cannot store (a NUL, a lone UTF-16 surrogate): the entry is kept
    // with U+FFFD in their place. Before, the write threw in the audit service, which stopped the whole server.
    [Fact]
    public async Task AnEntryWithTextTheStoreCannotHoldIsKeptWithReplacementCharacters()
    {
        await using var app = SecuredAgora.Create();
        var store = app.Services.GetRequiredService<SecurityStore>();
        store.Append([new AuditEntry(DateTimeOffset.UtcNow, "", "k\0", "GET /\uD800x", "denied", "bad \uDC00", null)]);

        var entry = Assert.Single(store.Audit("", new AuditQuery(null, null, "k\uFFFD", null, 100, 0)));

        Assert.Equal("GET /\uFFFDx", entry.Action);
        Assert.Equal("bad \uFFFD", entry.Reason);
    }

    [Fact]
    public async Task OldEntriesArePurgedAndNoneIsEverRewritten()
    {
        await using var app = SecuredAgora.Create(("Agora:Security:AuditRetentionDays", "30"));
        var store = app.Services.GetRequiredService<SecurityStore>();
        store.Append([
            new AuditEntry(DateTimeOffset.UtcNow.AddDays(-31), "", "k1", "GET /x", "allowed", null, null),
            new AuditEntry(DateTimeOffset.UtcNow.AddDays(-1), "", "k2", "GET /x", "allowed", null, null),
        ]);

        var removed = app.Services.GetRequiredService<AuditLog>().Purge();
        var left = store.Audit("", new AuditQuery(null, null, null, null, 100, 0)).Select(e => e.Actor).ToList();

        Assert.Equal(1, removed);
        Assert.Contains("k2", left);
        Assert.DoesNotContain("k1", left);
        using var connection = store.Connect();
        using var rewrite = connection.CreateCommand();
        rewrite.CommandText = "UPDATE audit SET decision = 'allowed'";
        Assert.ThrowsAny<System.Data.Common.DbException>(() => rewrite.ExecuteNonQuery());
    }

    [Fact]
    public async Task NoSecretReachesTheLogs()
    {
        var logs = new LogCapture();
        var idp = new FakeIdentityProvider();
        await using var agora = new AgoraApplication([.. FakeIdentityProvider.Settings, ("Logging:LogLevel:Default", "Trace")]);
        await using var app = logs.Attach(idp.Trust(agora));
        var credentials = app.Services.GetRequiredService<Credentials>();
        var key = credentials.CreateApiKey("", new CredentialRequest(Role.Admin, null, null, DateTimeOffset.UtcNow.AddDays(1), null)).Key;
        var expired = idp.Token(expires: DateTime.UtcNow.AddMinutes(-5));
        var valid = idp.Token();
        using var client = app.CreateClient();

        foreach (var authorization in new[] { "ApiKey " + key, "ApiKey " + key + "x", "Bearer " + expired, "Bearer " + valid, "Bearer " + valid[..^3] })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, EntitiesPath + "?type=Building");
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
            (await client.SendAsync(request)).Dispose();
        }
        using var created = await client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/admin/v1/clients")
        {
            Headers = { { "X-Api-Key", key } },
            Content = Json("""{"role": "consumer"}"""),
        });
        var body = await SecuredAgora.JsonAsync(created);
        using var token = await client.PostAsync(TokenIssuer.TokenPath, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = (string)body["clientId"]!,
            ["client_secret"] = (string)body["clientSecret"]!,
        }));
        var issued = (string)(await SecuredAgora.JsonAsync(token))["access_token"]!;

        Assert.NotEmpty(logs.Text);
        foreach (var secret in new[] { key, (string)body["clientSecret"]!, expired, valid, issued })
        {
            var at = logs.Text.IndexOf(Secret(secret), StringComparison.Ordinal);
            Assert.True(at < 0, at < 0 ? "" : logs.Text[Math.Max(0, at - 1500)..Math.Min(logs.Text.Length, at + 100)]);
        }
    }

    // The part of a credential that must stay secret: a key's secret, a token's signature.
    private static string Secret(string credential) => credential.Contains('.') ? credential[(credential.LastIndexOf('.') + 1)..]
        : credential.StartsWith("agora_", StringComparison.Ordinal) ? SecuredAgora.SecretOf(credential) : credential;
}
