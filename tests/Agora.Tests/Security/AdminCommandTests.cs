using System.Net;
using Agora.Hosting;
using Agora.Security;
using static Agora.Tests.AgoraApplication;

namespace Agora.Tests.Security;

/// `agora admin create-key`: the first admin credential of a tenant, made before any request can be.
public sealed class AdminCommandTests : IDisposable
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), "agora-tests", Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task TheCommandPrintsAKeyOnceThatAdministersItsTenant()
    {
        Assert.True(AgoraCommandLine.TryParse(["admin", "create-key", "--tenant", "sevilla", "--role", "admin", "--expires", "7d", "--data", _data, .. TestDatabase.Arguments(_data)], out var verb, out var args));
        var output = new StringWriter();
        var error = new StringWriter();

        var exit = AdminCommand.Run(args, output, error);

        Assert.Equal("admin", verb);
        Assert.Equal(0, exit);
        var key = output.ToString().Trim();
        Assert.StartsWith("agora_k", key);
        Assert.DoesNotContain(key, error.ToString());
        Assert.Contains("sevilla", error.ToString());
        await using var app = SecuredAgora.Create(("Agora:Data", _data));
        using var admin = app.Client(key, "sevilla");
        using var created = await admin.PostAsync("/admin/v1/apikeys", Json("""{"role": "provider"}"""));
        using var entity = await admin.PostAsync(EntitiesPath, Json(SecuredAgora.Building));
        using var audit = await admin.GetAsync("/admin/v1/audit?actor=cli");
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(HttpStatusCode.Created, entity.StatusCode);
        Assert.Contains("created API key", await audit.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("create-key", "--role", "emperor")]
    [InlineData("create-key", "--role", "admin", "--expires", "soon")]
    [InlineData("delete-everything")]
    public void ABadCommandFailsWithoutAKey(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();

        var exit = AdminCommand.Run([.. args, "--Agora:Data", _data], output, error);

        Assert.Equal(2, exit);
        Assert.Equal("", output.ToString());
        Assert.NotEqual("", error.ToString());
    }

    [Fact]
    public void TheServeVerbStillMapsItsSwitches()
    {
        Assert.True(AgoraCommandLine.TryParse(["serve", "--port", "1030", "--host=0.0.0.0"], out var verb, out var args));

        Assert.Equal("serve", verb);
        Assert.Equal(["--Agora:Port", "1030", "--Agora:Host=0.0.0.0"], args);
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (Directory.Exists(_data))
        {
            Directory.Delete(_data, recursive: true);
        }
    }
}
