using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Agora.Security;
using Microsoft.Extensions.DependencyInjection;
using static Agora.Tests.AgoraApplication;
using static Agora.Tests.NgsiLdAssert;

namespace Agora.Tests.Security;

/// API keys through the administration API: shown once, stored hashed, revocable, expiring, one tenant and role.
public sealed class ApiKeyTests
{
    [Fact]
    public async Task AKeyIsShownOnceAtCreationAndNeverListed()
    {
        await using var app = SecuredAgora.Create();
        using var admin = app.Client(app.Key("", Role.Admin));

        using var created = await admin.PostAsync("/admin/v1/apikeys", Json("""{"role": "consumer", "name": "open data portal", "expiresIn": "30d"}"""));
        var body = (JsonObject)await SecuredAgora.JsonAsync(created);
        var key = (string)body["key"]!;
        using var listed = await admin.GetAsync("/admin/v1/apikeys");
        using var one = await admin.GetAsync(created.Headers.Location);

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.StartsWith("agora_" + (string)body["id"]! + "_", key);
        Assert.Equal("consumer", (string?)body["role"]);
        var list = await listed.Content.ReadAsStringAsync();
        Assert.Contains((string)body["id"]!, list);
        Assert.DoesNotContain(key, list);
        Assert.DoesNotContain(key[^20..], await one.Content.ReadAsStringAsync());
        Assert.InRange(DateTimeOffset.Parse((string)body["expiresAt"]!, System.Globalization.CultureInfo.InvariantCulture),
            DateTimeOffset.UtcNow.AddDays(29), DateTimeOffset.UtcNow.AddDays(31));
    }

    [Fact]
    public async Task TheDatabaseHoldsNoKeyInPlainText()
    {
        await using var app = SecuredAgora.Create();
        var key = app.Key("", Role.Provider);
        var secret = SecuredAgora.SecretOf(key);
        using var client = app.Client(key);
        using var used = await client.PostAsync(EntitiesPath, Json(SecuredAgora.Building));
        var store = app.Services.GetRequiredService<SecurityStore>();
        await app.Services.GetRequiredService<AuditLog>().FlushAsync(default);

        Assert.Equal(HttpStatusCode.Created, used.StatusCode);
        if (TestDatabase.IsPostgres)
        {
            // Every row of the credentials and the audit log, as text.
            using var connection = store.Connect();
            using var dump = connection.CreateCommand();
            dump.CommandText = "SELECT coalesce(string_agg(c::text, ' '), '') FROM credentials c UNION ALL SELECT coalesce(string_agg(a::text, ' '), '') FROM audit a";
            using var rows = dump.ExecuteReader();
            while (rows.Read())
            {
                Assert.DoesNotContain(secret, rows.GetString(0));
                Assert.DoesNotContain(key, rows.GetString(0));
            }
            return;
        }
        var files = Directory.GetFiles(Path.GetDirectoryName(store.Path)!, "*", SearchOption.AllDirectories)
            .Where(f => !f.Contains("issuer-keys", StringComparison.Ordinal));
        foreach (var file in files)
        {
            FileStream stream;
            try
            {
                stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            }
            catch (FileNotFoundException)
            {
                // SQLite deletes a database's -wal and -shm files when its last connection closes, which may
                // happen between the listing and the opening: a file that is gone holds no key.
                continue;
            }
            using var owned = stream;
            using var reader = new StreamReader(stream, Encoding.Latin1);
            var text = await reader.ReadToEndAsync();
            Assert.DoesNotContain(secret, text);
            Assert.DoesNotContain(key, text);
        }
    }

    [Fact]
    public async Task ARevokedKeyIsRefusedAtOnce()
    {
        await using var app = SecuredAgora.Create();
        using var admin = app.Client(app.Key("", Role.Admin));
        using var created = await admin.PostAsync("/admin/v1/apikeys", Json("""{"role": "consumer"}"""));
        var body = await SecuredAgora.JsonAsync(created);
        using var consumer = app.Client((string)body["key"]!);
        using var before = await consumer.GetAsync(EntitiesPath + "?type=Building");

        using var revoked = await admin.DeleteAsync($"/admin/v1/apikeys/{(string)body["id"]!}");
        using var after = await consumer.GetAsync(EntitiesPath + "?type=Building");
        using var listed = await admin.GetAsync(created.Headers.Location);

        Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        await ProblemAsync(after, HttpStatusCode.Unauthorized, "Unauthorized");
        var view = await SecuredAgora.JsonAsync(listed);
        Assert.False((bool)view["active"]!);
        Assert.NotNull((string?)view["revokedAt"]);
    }

    /// Two nodes on one PostgreSQL database: each keeps the keys it has checked, and a key revoked through one
    /// is refused by the other as soon as the database has told it (well within a second).
    [PostgresFact]
    public async Task AKeyRevokedThroughOneNodeIsRefusedByAnotherThatHadCheckedIt()
    {
        var data = Path.Combine(Path.GetTempPath(), "agora-tests", Guid.NewGuid().ToString("N"));
        try
        {
            await RevokeOnOneNodeAsync(data);
        }
        finally
        {
            await TestDatabase.DropAsync(data);
            if (Directory.Exists(data))
            {
                Directory.Delete(data, recursive: true);
            }
        }
    }

    private static async Task RevokeOnOneNodeAsync(string data)
    {
        await using var one = SecuredAgora.Create(("Agora:Data", data));
        await using var two = SecuredAgora.Create(("Agora:Data", data));
        using var admin = one.Client(one.Key("", Role.Admin));
        using var created = await admin.PostAsync("/admin/v1/apikeys", Json("""{"role": "consumer"}"""));
        var body = await SecuredAgora.JsonAsync(created);
        using var consumer = two.Client((string)body["key"]!);
        using var before = await consumer.GetAsync(EntitiesPath + "?type=Building");

        using var revoked = await admin.DeleteAsync($"/admin/v1/apikeys/{(string)body["id"]!}");
        var refused = false;
        for (var clock = System.Diagnostics.Stopwatch.StartNew(); !refused && clock.Elapsed < TimeSpan.FromSeconds(5); await Task.Delay(20))
        {
            using var after = await consumer.GetAsync(EntitiesPath + "?type=Building");
            refused = after.StatusCode == HttpStatusCode.Unauthorized;
        }

        Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        Assert.True(refused, "node two still accepted the revoked key after 5 s");
    }

    [Theory]
    [InlineData("""{"role": "root"}""")]
    [InlineData("""{"role": "consumer", "entityTypes": ["Building"]}""")]
    [InlineData("""{"role": "provider", "entityTypes": []}""")]
    [InlineData("""{"role": "provider", "entityTypes": [1]}""")]
    [InlineData("""{"role": "admin", "expiresIn": "-5d"}""")]
    [InlineData("""{"role": "admin", "expiresIn": "99999d"}""")]
    [InlineData("""{"role": "admin", "expiresAt": "2001-01-01T00:00:00Z"}""")]
    [InlineData("""{"role": "admin", "rateLimit": "many"}""")]
    [InlineData("""{"role": 5}""")]
    [InlineData("""[]""")]
    public async Task AnInvalidKeyRequestIsBadRequest(string body)
    {
        await using var app = SecuredAgora.Create();
        using var admin = app.Client(app.Key("", Role.Admin));

        using var response = await admin.PostAsync("/admin/v1/apikeys", Json(body));

        await ProblemAsync(response, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task OnlyAnAdminManagesKeys()
    {
        await using var app = SecuredAgora.Create();
        using var provider = app.Client(app.Key("", Role.Provider));

        using var response = await provider.PostAsync("/admin/v1/apikeys", Json("""{"role": "admin"}"""));

        var problem = await ProblemAsync(response, HttpStatusCode.Forbidden, "AccessDenied");
        Assert.Contains("admin", (string?)problem["detail"]);
    }

    [Fact]
    public async Task RevokingAnUnknownKeyIsNotFound()
    {
        await using var app = SecuredAgora.Create();
        using var admin = app.Client(app.Key("", Role.Admin));

        using var response = await admin.DeleteAsync("/admin/v1/apikeys/k0000000000000000");

        await ProblemAsync(response, HttpStatusCode.NotFound, "ResourceNotFound");
    }
}
