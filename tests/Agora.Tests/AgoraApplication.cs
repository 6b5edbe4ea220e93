using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Agora.Tests;

/// An in-process Agora with its own empty data folder, deleted on dispose. Each test creates its own
/// (TodoApi's TodoApplication), so no test sees another's entities or tenants.
internal sealed class AgoraApplication(params (string Key, string Value)[] settings) : WebApplicationFactory<Program>
{
    public const string EntitiesPath = "/ngsi-ld/v1/entities";

    private readonly string _data = Path.Combine(Path.GetTempPath(), "agora-tests", Guid.NewGuid().ToString("N"));

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Agora:Data", _data);
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        // A test that names its own data folder (to restart on it) gets the same database schema each time.
        var data = settings.LastOrDefault(s => s.Key == "Agora:Data").Value ?? _data;
        foreach (var (key, value) in TestDatabase.Settings(data).Concat(settings))
        {
            builder.UseSetting(key, value);
        }
    }

    /// A client that names a tenant in every request.
    public HttpClient CreateClient(string tenant)
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Add("NGSILD-Tenant", tenant);
        return client;
    }

    /// Creates an entity and checks that it was created.
    public async Task CreateEntityAsync(string json, string? tenant = null)
    {
        using var client = tenant is null ? CreateClient() : CreateClient(tenant);
        using var response = await client.PostAsync(EntitiesPath, Json(json));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    /// The entity as a client sees it (normalized unless the query says otherwise), checking for 200.
    public async Task<JsonObject> RetrieveAsync(string id, string query = "", string? tenant = null)
    {
        using var client = tenant is null ? CreateClient() : CreateClient(tenant);
        using var response = await client.GetAsync(EntityPath(id) + query);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
    }

    public static string EntityPath(string id) => $"{EntitiesPath}/{Uri.EscapeDataString(id)}";

    public static string AttrsPath(string id) => EntityPath(id) + "/attrs";

    public static string AttrPath(string id, string attr) => $"{AttrsPath(id)}/{Uri.EscapeDataString(attr)}";

    /// A request body of the given media type (application/json unless told).
    public static StringContent Json(string json, string mediaType = "application/json")
    {
        var content = new StringContent(json, Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
        return content;
    }

    // The end of every application this factory started: its own, and those of factories derived from it
    // (WithWebHostBuilder), whose hosts are made here too.
    private readonly List<Task> _ended = [];

    protected override IHost CreateHost(IHostBuilder builder)
    {
        var host = base.CreateHost(builder);
        lock (_ended)
        {
            _ended.Add(host.Services.GetRequiredService<Agora.Hosting.HostEnded>().Task);
        }
        return host;
    }

    public override async ValueTask DisposeAsync()
    {
        // The test host returns from its disposal while the application may still be disposing its services
        // (their last writes among them): the data is deleted only once the application has ended.
        await base.DisposeAsync();
        await Task.WhenAll(_ended).WaitAsync(TimeSpan.FromSeconds(30));
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        await TestDatabase.DropAsync(_data);
        Delete(_data);
    }

    /// Deletes a test's data folder; one that cannot be deleted fails the test naming what is left in it.
    private static void Delete(string folder)
    {
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
        catch (IOException e)
        {
            var left = string.Join(", ", Directory.EnumerateFileSystemEntries(folder, "*", SearchOption.AllDirectories));
            throw new IOException($"{e.Message} Left: {left}", e);
        }
    }
}
