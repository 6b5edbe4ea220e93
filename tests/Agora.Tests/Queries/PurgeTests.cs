using System.Net;
using static Agora.Tests.AgoraApplication;
using static Agora.Tests.NgsiLdAssert;

namespace Agora.Tests.Queries;

public sealed class PurgeTests
{
    private const string City = """
        [
          {"id": "urn:ngsi-ld:Building:1", "type": "Building", "name": "Tower", "height": 300},
          {"id": "urn:ngsi-ld:Building:2", "type": "Building", "name": "Hall", "height": 20},
          {"id": "urn:ngsi-ld:Vehicle:1", "type": "Vehicle", "name": "Bus", "speed": 40}
        ]
        """;

    [Fact]
    public async Task PurgeByTypeDeletesOnlyThatType()
    {
        await using var app = new AgoraApplication();
        await app.SeedAsync(City);
        using var client = app.CreateClient();

        using var response = await client.DeleteAsync($"{EntitiesPath}?type=Building");

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(["urn:ngsi-ld:Vehicle:1"], await app.IdsAsync("local=true"));
    }

    [Fact]
    public async Task PurgeByQDeletesOnlyMatchingEntities()
    {
        await using var app = new AgoraApplication();
        await app.SeedAsync(City);
        using var client = app.CreateClient();

        using var response = await client.DeleteAsync($"{EntitiesPath}?type=Building&q=height%3E100");

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(["urn:ngsi-ld:Building:2", "urn:ngsi-ld:Vehicle:1"], await app.IdsAsync("local=true"));
    }

    [Fact]
    public async Task PurgeWithDropRemovesAttributesButKeepsEntities()
    {
        await using var app = new AgoraApplication();
        await app.SeedAsync(City);
        using var client = app.CreateClient();

        using var response = await client.DeleteAsync($"{EntitiesPath}?type=Building&drop=name");
        var tower = await app.RetrieveAsync("urn:ngsi-ld:Building:1");
        var bus = await app.RetrieveAsync("urn:ngsi-ld:Vehicle:1");

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.False(tower.ContainsKey("name"));
        Assert.True(tower.ContainsKey("height"));
        Assert.True(bus.ContainsKey("name"));
        Assert.Empty(await app.IdsAsync("type=Building&q=name"));
    }

    [Fact]
    public async Task PurgeWithKeepRemovesEveryOtherAttribute()
    {
        await using var app = new AgoraApplication();
        await app.SeedAsync(City);
        using var client = app.CreateClient();

        using var response = await client.DeleteAsync($"{EntitiesPath}?type=Building&keep=height");
        var hall = await app.RetrieveAsync("urn:ngsi-ld:Building:2");

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.False(hall.ContainsKey("name"));
        Assert.Equal(20, (int)hall["height"]!["value"]!);
    }

    [Fact]
    public async Task PurgeAllInLocalMode()
    {
        await using var app = new AgoraApplication();
        await app.SeedAsync(City);
        using var client = app.CreateClient();

        using var response = await client.DeleteAsync($"{EntitiesPath}?local=true");

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Empty(await app.IdsAsync("local=true"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("?type=Building&keep=name&drop=height")]
    public async Task PurgeWithoutASelectionOrWithKeepAndDropIsRejected(string query)
    {
        await using var app = new AgoraApplication();
        await app.SeedAsync(City);
        using var client = app.CreateClient();

        using var response = await client.DeleteAsync(EntitiesPath + query);

        await ProblemAsync(response, HttpStatusCode.BadRequest, "BadRequestData");
        Assert.Equal(3, (await app.IdsAsync("local=true")).Length);
    }
}
