using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Data.Sqlite;
using Npgsql;
using static Agora.Tests.AgoraApplication;
using static Agora.Tests.NgsiLdAssert;

namespace Agora.Tests.JsonLd;

/// The @contexts a client of one tenant gives Agora are that tenant's (ETSI GS CIM 009 V1.9.1 clause 5.5.10: an
/// operation applies within its tenant; 5.13.3-5.13.5: list, serve, delete). A Hosted context (5.13.2) or one
/// Agora made from an inline @context (ImplicitlyCreated) is listed, served, deleted and used in its tenant only,
/// the default tenant being one tenant among others; a Cached one, a copy of a public document, is shared.
public sealed class ContextTenancyTests
{
    private const string ContextsPath = "/ngsi-ld/v1/jsonldContexts";
    private const string Private = """{"@context": {"TenantPrivateTerm": "urn:ngsi-ld:attributes:TenantPrivateTerm"}}""";

    /// ETSI fork 5134_01_01-03: another tenant, the default one included, gets 404 for the context, never lists
    /// it, and cannot delete it; its own tenant reads and deletes it.
    [Theory]
    [InlineData("tenant-a", "tenant-b")]
    [InlineData("tenant-a", "")]
    [InlineData("", "tenant-b")]
    public async Task AHostedContextIsInvisibleToAnotherTenant(string owner, string other)
    {
        await using var app = new AgoraApplication();
        using var ownClient = Client(app, owner);
        using var otherClient = Client(app, other);
        var location = await AddAsync(ownClient, Private);
        var localId = location.Split('/')[^1];

        using var served = await otherClient.GetAsync(location);
        using var details = await otherClient.GetAsync(location + "?details=true");
        using var list = await otherClient.GetAsync(ContextsPath);
        using var detailedList = await otherClient.GetAsync(ContextsPath + "?details=true&kind=Hosted");
        using var deleted = await otherClient.DeleteAsync(location);

        foreach (var response in new[] { served, details, deleted })
        {
            var problem = await ProblemAsync(response, HttpStatusCode.NotFound, "ResourceNotFound");
            Assert.DoesNotContain("TenantPrivateTerm", problem.ToJsonString());
        }
        Assert.DoesNotContain(localId, await list.Content.ReadAsStringAsync());
        Assert.Equal("[]", await detailedList.Content.ReadAsStringAsync());
        using var own = await ownClient.GetAsync(location);
        Assert.Contains("TenantPrivateTerm", await own.Content.ReadAsStringAsync());
        using var ownDelete = await ownClient.DeleteAsync(location);
        Assert.Equal(HttpStatusCode.NoContent, ownDelete.StatusCode);
    }

    /// A tenant's Hosted context expands its requests' terms; another tenant naming its URL is not given it: Agora
    /// does not serve it that tenant, so the request fails as for any @context that cannot be retrieved, and
    /// writes nothing.
    [Fact]
    public async Task AHostedContextIsUsedInItsTenantOnly()
    {
        await using var app = new AgoraApplication();
        using var ownClient = Client(app, "tenant-a");
        using var otherClient = Client(app, "tenant-b");
        var url = "http://localhost" + await AddAsync(ownClient, """{"@context": {"height": "https://example.org/height"}}""");
        const string entity = """{"id": "urn:ngsi-ld:Building:1", "type": "Building", "height": 12}""";

        using var own = await ownClient.SendAsync(Linked(HttpMethod.Post, EntitiesPath, url, entity));
        using var other = await otherClient.SendAsync(Linked(HttpMethod.Post, EntitiesPath, url, entity));

        Assert.Equal(HttpStatusCode.Created, own.StatusCode);
        Assert.NotNull((await app.RetrieveAsync("urn:ngsi-ld:Building:1", tenant: "tenant-a"))["https://example.org/height"]);
        var problem = JsonNode.Parse(await other.Content.ReadAsStringAsync())!;
        Assert.Equal(ErrorTypes + "LdContextNotAvailable", (string?)problem["type"]);
        using var notWritten = await otherClient.GetAsync(EntityPath("urn:ngsi-ld:Building:1"));
        Assert.NotEqual(HttpStatusCode.OK, notWritten.StatusCode);
    }

    /// An inline @context becomes an ImplicitlyCreated one when Agora has to name it (here, in the Link header of
    /// a JSON answer): the one made for a tenant is that tenant's, and the same text in another tenant makes
    /// another.
    [Fact]
    public async Task AnImplicitlyCreatedContextIsItsTenants()
    {
        await using var app = new AgoraApplication();
        using var ownClient = Client(app, "tenant-a");
        using var otherClient = Client(app, "tenant-b");
        await app.CreateEntityAsync("""{"id": "urn:ngsi-ld:Building:1", "type": "Building"}""", "tenant-a");
        await app.CreateEntityAsync("""{"id": "urn:ngsi-ld:Building:1", "type": "Building"}""", "tenant-b");

        var ownUrl = await ImplicitUrlAsync(ownClient);
        var otherUrl = await ImplicitUrlAsync(otherClient);

        Assert.NotEqual(ownUrl, otherUrl);
        using var own = await ownClient.GetAsync(ownUrl);
        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        using var foreign = await otherClient.GetAsync(ownUrl);
        await ProblemAsync(foreign, HttpStatusCode.NotFound, "ResourceNotFound");
        using var list = await otherClient.GetAsync(ContextsPath + "?kind=ImplicitlyCreated");
        var listed = await list.Content.ReadAsStringAsync();
        Assert.DoesNotContain(ownUrl.Split('/')[^1], listed);
        Assert.Contains(otherUrl.Split('/')[^1], listed);
    }

    /// A Cached context is a copy of a public document: every tenant lists and reads it, whichever tenant's
    /// request fetched it, and only the default tenant deletes it, since that takes it from all.
    [Fact]
    public async Task ACachedContextIsSharedAndDeletedByTheDefaultTenantOnly()
    {
        await using var server = await ContextServer.StartAsync(http =>
            http.Response.WriteAsync("""{"@context": {"height": "https://example.org/height"}}"""));
        await using var app = new AgoraApplication();
        using var ownClient = Client(app, "tenant-a");
        using var otherClient = Client(app, "tenant-b");
        using var defaultClient = Client(app, "");
        var url = server.BaseUrl + "/building.jsonld";
        using var created = await ownClient.SendAsync(Linked(HttpMethod.Post, EntitiesPath, url, """{"id": "urn:ngsi-ld:Building:1", "type": "Building"}"""));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);

        using var listed = await otherClient.GetAsync(ContextsPath + "?kind=Cached");
        using var served = await otherClient.GetAsync(ContextsPath + "/" + Uri.EscapeDataString(url));
        using var deletedElsewhere = await otherClient.DeleteAsync(ContextsPath + "/" + Uri.EscapeDataString(url));

        Assert.Contains(url, await listed.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        var problem = await ProblemAsync(deletedElsewhere, HttpStatusCode.Forbidden, "AccessDenied");
        Assert.Contains("default tenant", (string?)problem["detail"]);
        using var stillThere = await ownClient.GetAsync(ContextsPath + "/" + Uri.EscapeDataString(url));
        Assert.Equal(HttpStatusCode.OK, stillThere.StatusCode);
        using var deleted = await defaultClient.DeleteAsync(ContextsPath + "/" + Uri.EscapeDataString(url));
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
    }

    /// The contexts an Agora stored before they had tenants were the city operator's, who alone could add them
    /// when security was on: they stay the default tenant's, usable and deletable as before.
    [Fact]
    public async Task ContextsStoredBeforeTenantsAreTheDefaultTenants()
    {
        var data = Path.Combine(Path.GetTempPath(), "agora-tests", Guid.NewGuid().ToString("N"));
        await StoreOldContextAsync(data, "legacy1", """{"height": "https://example.org/height"}""");
        await using var app = new AgoraApplication(("Agora:Data", data));
        using var defaultClient = Client(app, "");
        using var tenantClient = Client(app, "tenant-a");

        using var own = await defaultClient.GetAsync(ContextsPath + "/legacy1?details=true");
        using var foreign = await tenantClient.GetAsync(ContextsPath + "/legacy1");

        Assert.Equal("Hosted", (string?)JsonNode.Parse(await own.Content.ReadAsStringAsync())!["kind"]);
        await ProblemAsync(foreign, HttpStatusCode.NotFound, "ResourceNotFound");
        using var created = await defaultClient.SendAsync(Linked(HttpMethod.Post, EntitiesPath, "http://localhost" + ContextsPath + "/legacy1", """{"id": "urn:ngsi-ld:Building:1", "type": "Building", "height": 3}"""));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.NotNull((await app.RetrieveAsync("urn:ngsi-ld:Building:1"))["https://example.org/height"]);
    }

    // The contexts table as Agora kept it before contexts had tenants, holding one Hosted context.
    private static async Task StoreOldContextAsync(string data, string localId, string context)
    {
        const string Table = """
            CREATE TABLE contexts (local_id TEXT PRIMARY KEY, url TEXT, kind TEXT NOT NULL, body TEXT NOT NULL,
                created_at TEXT NOT NULL, expires_at TEXT, hits BIGINT NOT NULL DEFAULT 0);
            INSERT INTO contexts (local_id, kind, body, created_at) VALUES (@id, 'Hosted', @body, '2025-01-01T00:00:00.0000000+00:00');
            """;
        if (TestDatabase.ConnectionString is { } connectionString)
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync();
            var schema = TestDatabase.SchemaOf(data);
            await using var command = new NpgsqlCommand($"CREATE SCHEMA {schema}; SET search_path TO {schema}; {Table}", connection);
            command.Parameters.AddWithValue("@id", localId);
            command.Parameters.AddWithValue("@body", context);
            await command.ExecuteNonQueryAsync();
            return;
        }
        Directory.CreateDirectory(data);
        await using var sqlite = new SqliteConnection($"Data Source={Path.Combine(data, "contexts.db")};Pooling=false");
        await sqlite.OpenAsync();
        await using var insert = sqlite.CreateCommand();
        insert.CommandText = Table;
        insert.Parameters.AddWithValue("@id", localId);
        insert.Parameters.AddWithValue("@body", context);
        await insert.ExecuteNonQueryAsync();
    }

    // The URL of the ImplicitlyCreated context a POST query's inline @context becomes, from its answer's Link header.
    private static async Task<string> ImplicitUrlAsync(HttpClient client)
    {
        using var response = await client.PostAsync("/ngsi-ld/v1/entityOperations/query", Json("""
            {"type": "Query", "entities": [{"type": "Building"}], "@context": {"height": "https://example.org/height"}}
            """, "application/ld+json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var link = response.Headers.GetValues("Link").Single();
        var url = link[(link.IndexOf('<') + 1)..link.IndexOf('>')];
        Assert.Contains(ContextsPath, url);
        return new Uri(url).PathAndQuery;
    }

    private static async Task<string> AddAsync(HttpClient client, string context)
    {
        using var response = await client.PostAsync(ContextsPath, Json(context));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return response.Headers.Location!.ToString();
    }

    private static HttpRequestMessage Linked(HttpMethod method, string path, string contextUrl, string body)
    {
        var request = new HttpRequestMessage(method, path) { Content = Json(body) };
        request.Headers.Add("Link", $"<{contextUrl}>; rel=\"http://www.w3.org/ns/json-ld#context\"; type=\"application/ld+json\"");
        return request;
    }

    private static HttpClient Client(AgoraApplication app, string tenant) => tenant == "" ? app.CreateClient() : app.CreateClient(tenant);
}
