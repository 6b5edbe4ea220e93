using System.Net;
using System.Text.Json.Nodes;
using static Agora.Tests.AgoraApplication;
using static Agora.Tests.NgsiLdAssert;

namespace Agora.Tests.Entities;

public sealed class CreateAndRetrieveTests
{
    private const string Building = """
        {
          "id": "urn:ngsi-ld:Building:1",
          "type": "Building",
          "temperature": {"type": "Property", "value": 21.5},
          "owner": {"type": "Relationship", "object": "urn:ngsi-ld:Person:1"}
        }
        """;

    [Fact]
    public async Task CreateAnswers201WithTheEntityLocation()
    {
        await using var app = new AgoraApplication();
        using var client = app.CreateClient();

        using var response = await client.PostAsync(EntitiesPath, Json(Building));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("/ngsi-ld/v1/entities/urn:ngsi-ld:Building:1", response.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task CreateThenRetrieveReturnsTheSameEntity()
    {
        await using var app = new AgoraApplication();
        await app.CreateEntityAsync(Building);

        var entity = await app.RetrieveAsync("urn:ngsi-ld:Building:1");

        JsonEqual(Building, entity);
    }

    [Fact]
    public async Task CreateAcceptsLdJsonWithTheContextInTheBody()
    {
        await using var app = new AgoraApplication();
        using var client = app.CreateClient();
        var body = JsonNode.Parse(Building)!.AsObject();
        body["@context"] = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld";

        using var response = await client.PostAsync(EntitiesPath, Json(body.ToJsonString(), "application/ld+json"));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        JsonEqual(Building, await app.RetrieveAsync("urn:ngsi-ld:Building:1"));
    }

    [Fact]
    public async Task CreateAcceptsSeveralTypesAndKeepsThemAll()
    {
        await using var app = new AgoraApplication();
        await app.CreateEntityAsync("""{"id": "urn:ngsi-ld:Building:1", "type": ["Building", "Landmark", "Building"]}""");

        var entity = await app.RetrieveAsync("urn:ngsi-ld:Building:1");

        JsonEqual("""["Building", "Landmark"]""", entity["type"]);
    }

    [Fact]
    public async Task RetrieveWithAMatchingTypeFindsTheEntityAndWithAnotherDoesNot()
    {
        await using var app = new AgoraApplication();
        await app.CreateEntityAsync(Building);
        using var client = app.CreateClient();

        using var matching = await client.GetAsync(EntityPath("urn:ngsi-ld:Building:1") + "?type=Building");
        using var other = await client.GetAsync(EntityPath("urn:ngsi-ld:Building:1") + "?type=Vehicle");

        Assert.Equal(HttpStatusCode.OK, matching.StatusCode);
        await ProblemAsync(other, HttpStatusCode.NotFound, "ResourceNotFound");
    }

    [Fact]
    public async Task DeleteRemovesTheEntity()
    {
        await using var app = new AgoraApplication();
        await app.CreateEntityAsync(Building);
        using var client = app.CreateClient();

        using var deleted = await client.DeleteAsync(EntityPath("urn:ngsi-ld:Building:1"));
        using var retrieved = await client.GetAsync(EntityPath("urn:ngsi-ld:Building:1"));
        using var deletedAgain = await client.DeleteAsync(EntityPath("urn:ngsi-ld:Building:1"));

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        await ProblemAsync(retrieved, HttpStatusCode.NotFound, "ResourceNotFound");
        await ProblemAsync(deletedAgain, HttpStatusCode.NotFound, "ResourceNotFound");
    }

    [Fact]
    public async Task ADeletedEntityCanBeCreatedAgain()
    {
        await using var app = new AgoraApplication();
        await app.CreateEntityAsync(Building);
        using var client = app.CreateClient();
        (await client.DeleteAsync(EntityPath("urn:ngsi-ld:Building:1"))).Dispose();

        await app.CreateEntityAsync("""{"id": "urn:ngsi-ld:Building:1", "type": "Shed"}""");

        JsonEqual("""{"id": "urn:ngsi-ld:Building:1", "type": "Shed"}""", await app.RetrieveAsync("urn:ngsi-ld:Building:1"));
    }
}
