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

    [Fact]
    public async Task EveryAnswerNamesTheTenantItWasGiven()
    {
        await using var app = new AgoraApplication();
        using var client = app.CreateClient("city-a");

        using var response = await client.PostAsync(EntitiesPath, Json(Building));

        Assert.Equal("city-a", Assert.Single(response.Headers.GetValues("NGSILD-Tenant")));
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
