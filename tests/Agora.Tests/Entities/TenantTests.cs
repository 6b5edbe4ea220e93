using System.Net;
using static Agora.Tests.AgoraApplication;
using static Agora.Tests.NgsiLdAssert;

namespace Agora.Tests.Entities;

public sealed class TenantTests
{
    private const string Id = "urn:ngsi-ld:Building:1";
    private const string Building = """{"id": "urn:ngsi-ld:Building:1", "type": "Building", "temperature": 21}""";

    [Fact]
    public async Task AWriteCreatesTheTenantAndItsEntitiesAreReadBack()
    {
        await using var app = new AgoraApplication();

        await app.CreateEntityAsync(Building, tenant: "city-a");

        Assert.Equal(21, (int)(await app.RetrieveAsync(Id, tenant: "city-a"))["temperature"]!["value"]!);
    }

    /// Clause 6.3.14: the creation of a resource in a tenant other than the default one is answered with the
    /// NGSILD-Tenant header. Agora names the tenant in every answer to a request that named one, errors included:
    /// a NonexistentTenant 404 says which tenant does not exist (ETSI fork 5510_01_01, 414_01_01).
    [Fact]
    public async Task EveryAnswerNamesTheTenantItWasGiven()
    {
        await using var app = new AgoraApplication();
        using var client = app.CreateClient("city-a");
        using var unknown = app.CreateClient("city-unknown");

        using var missingTenant = await unknown.GetAsync(EntitiesPath + "?type=Building");
        using var entity = await client.PostAsync(EntitiesPath, Json(Building));
        using var temporal = await client.PostAsync("/ngsi-ld/v1/temporal/entities", Json("""{"id": "urn:ngsi-ld:Building:2", "type": "Building", "temperature": [{"type": "Property", "value": 20, "observedAt": "2026-01-01T00:00:00Z"}]}"""));
        using var subscription = await client.PostAsync("/ngsi-ld/v1/subscriptions", Json("""{"type": "Subscription", "entities": [{"type": "Building"}], "notification": {"endpoint": {"uri": "http://127.0.0.1:9/notify"}}}"""));
        using var context = await client.PostAsync("/ngsi-ld/v1/jsonldContexts", Json("""{"@context": {"height": "https://example.org/height"}}"""));
        using var badBody = await client.PostAsync(EntitiesPath, Json("""{"id": """));
        using var noRoute = await client.GetAsync("/ngsi-ld/v1/nothing-here");

        await ProblemAsync(missingTenant, HttpStatusCode.NotFound, "NonexistentTenant");
        Assert.Equal("city-unknown", Assert.Single(missingTenant.Headers.GetValues("NGSILD-Tenant")));
        foreach (var created in new[] { entity, temporal, subscription, context })
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            Assert.Equal("city-a", Assert.Single(created.Headers.GetValues("NGSILD-Tenant")));
        }
        foreach (var failed in new[] { badBody, noRoute })
        {
            await AnyProblemAsync(failed);
            Assert.Equal("city-a", Assert.Single(failed.Headers.GetValues("NGSILD-Tenant")));
        }
    }

    /// The default tenant is the one a request names by naming none; its answers name none either.
    [Fact]
    public async Task AnswersInTheDefaultTenantNameNoTenant()
    {
        await using var app = new AgoraApplication();
        using var client = app.CreateClient();

        using var response = await client.PostAsync(EntitiesPath, Json(Building));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.False(response.Headers.Contains("NGSILD-Tenant"));
    }

    [Fact]
    public async Task ReadingATenantThatWasNeverWrittenIsNonexistentTenant()
    {
        await using var app = new AgoraApplication();
        using var client = app.CreateClient("never-written");

        using var response = await client.GetAsync(EntityPath(Id));

        await ProblemAsync(response, HttpStatusCode.NotFound, "NonexistentTenant");
    }

    [Fact]
    public async Task UpdatingInATenantThatWasNeverWrittenIsNonexistentTenant()
    {
        await using var app = new AgoraApplication();
        using var client = app.CreateClient("never-written");

        using var patched = await client.PatchAsync(AttrsPath(Id), Json("""{"temperature": 22}"""));
        using var deleted = await client.DeleteAsync(EntityPath(Id));
        using var read = await client.GetAsync(EntityPath(Id));

        await ProblemAsync(patched, HttpStatusCode.NotFound, "NonexistentTenant");
        await ProblemAsync(deleted, HttpStatusCode.NotFound, "NonexistentTenant");
        await ProblemAsync(read, HttpStatusCode.NotFound, "NonexistentTenant");
    }

    [Fact]
    public async Task EntitiesOfOneTenantAreInvisibleInAnotherAndInTheDefaultTenant()
    {
        await using var app = new AgoraApplication();
        await app.CreateEntityAsync(Building, tenant: "city-a");
        await app.CreateEntityAsync("""{"id": "urn:ngsi-ld:Building:2", "type": "Building"}""", tenant: "city-b");
        using var b = app.CreateClient("city-b");
        using var main = app.CreateClient();

        using var fromB = await b.GetAsync(EntityPath(Id));
        using var fromDefault = await main.GetAsync(EntityPath(Id));

        await ProblemAsync(fromB, HttpStatusCode.NotFound, "ResourceNotFound");
        await ProblemAsync(fromDefault, HttpStatusCode.NotFound, "ResourceNotFound");
    }

    [Fact]
    public async Task TheSameIdCanLiveInTwoTenantsIndependently()
    {
        await using var app = new AgoraApplication();
        await app.CreateEntityAsync(Building, tenant: "city-a");
        await app.CreateEntityAsync("""{"id": "urn:ngsi-ld:Building:1", "type": "Shed"}""", tenant: "city-b");
        await app.CreateEntityAsync("""{"id": "urn:ngsi-ld:Building:1", "type": "Barn"}""");
        using var a = app.CreateClient("city-a");

        using var deleted = await a.DeleteAsync(EntityPath(Id));

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal("Shed", (string?)(await app.RetrieveAsync(Id, tenant: "city-b"))["type"]);
        Assert.Equal("Barn", (string?)(await app.RetrieveAsync(Id))["type"]);
    }

    [Theory]
    [InlineData("../../etc")]
    [InlineData("Ciudad de México")]
    [InlineData("default")]
    [InlineData("t-x")]
    public async Task TenantNamesThatAreNotFileNamesStillMakeSeparateTenants(string tenant)
    {
        await using var app = new AgoraApplication();
        await app.CreateEntityAsync(Building, tenant: tenant);
        using var main = app.CreateClient();

        using var fromDefault = await main.GetAsync(EntityPath(Id));

        Assert.Equal(21, (int)(await app.RetrieveAsync(Id, tenant: tenant))["temperature"]!["value"]!);
        await ProblemAsync(fromDefault, HttpStatusCode.NotFound, "ResourceNotFound");
    }

    [Fact]
    public async Task ATenantNameThatIsTooLongIsRejected()
    {
        await using var app = new AgoraApplication();
        using var client = app.CreateClient(new string('t', 129));

        using var response = await client.PostAsync(EntitiesPath, Json(Building));

        await ProblemAsync(response, HttpStatusCode.BadRequest, "BadRequestData");
    }
}
