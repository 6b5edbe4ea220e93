using System.Net;
using static Agora.Tests.AgoraApplication;
using static Agora.Tests.Market.EnforcementTests;

namespace Agora.Tests.Market;

/// The ways around an agreement that a review of the enforcement found, each closed.
public sealed class EnforcementLoopholeTests
{
    [Theory]
    [InlineData("?type=AirQualityObserved&join=inline")]
    [InlineData("?type=AirQualityObserved&join=flat&joinLevel=16")]
    public async Task AnAgreementsKeyDoesNotFollowLinks(string query)
    {
        await using var market = await CityAsync();
        var (_, key) = await market.AgreementAsync(Source);
        using var consumer = market.Consumer(key);

        using var joined = await consumer.GetAsync(EntitiesPath + query);
        using var inBody = await consumer.PostAsync("/ngsi-ld/v1/entityOperations/query", Json("""{"type": "Query", "entities": [{"type": "AirQualityObserved"}], "join": "inline"}"""));

        await NgsiLdAssert.ProblemAsync(joined, HttpStatusCode.Forbidden);
        await NgsiLdAssert.ProblemAsync(inBody, HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task AnIdPatternCannotBreakOutOfTheAgreementsPattern()
    {
        await using var market = await CityAsync();
        var (_, key) = await market.AgreementAsync(Source.Replace("\"name\": \"Centro\"", "\"name\": \"Centro\", \"idPattern\": \"centro$\"", StringComparison.Ordinal));
        using var consumer = market.Consumer(key);

        using var escape = await consumer.GetAsync(EntitiesPath + "?type=AirQualityObserved&idPattern=" + Uri.EscapeDataString("x))|((?:"));

        await NgsiLdAssert.ProblemAsync(escape, HttpStatusCode.BadRequest);
    }

    [Theory]
    [InlineData("pick=id,temperature")]
    [InlineData("orderBy=temperature")]
    public async Task APostQueryTakesItsProjectionFromItsQueryObjectOnly(string parameters)
    {
        await using var market = await CityAsync();
        var (_, key) = await market.AgreementAsync(Source);
        using var consumer = market.Consumer(key);

        using var answer = await consumer.PostAsync("/ngsi-ld/v1/temporal/entityOperations/query?" + parameters, Json("""{"type": "Query", "entities": [{"type": "AirQualityObserved"}]}"""));

        await NgsiLdAssert.ProblemAsync(answer, HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task AnAgreementsKeyCannotTakeOutAnotherAgreement()
    {
        await using var market = await CityAsync();
        var offering = await market.OfferingAsync(await market.DataSourceAsync(Source), """ "accessMode": "open" """);
        using var first = await market.AccountAsync();
        var key = (string)(await MarketAgora.RequestAsync(first, offering))["key"]!;
        using var agreementKey = market.Consumer(key);

        using var second = await agreementKey.PostAsync(MarketAgora.Base + "/agreements", Json($$"""{"offering": "{{offering}}", "consumer": "Acme Mobility"}"""));

        await NgsiLdAssert.ProblemAsync(second, HttpStatusCode.Forbidden);
    }

    [Theory]
    [InlineData("""{"offering": "a", "offering": "b", "consumer": "x"}""")]
    [InlineData("""{"offering": "\udc00", "consumer": "x"}""")]
    [InlineData("""{"offering": """)]
    public async Task AMalformedMarketBodyIsAClientError(string body)
    {
        await using var market = await CityAsync();
        using var consumer = await market.AccountAsync();

        using var answer = await consumer.PostAsync(MarketAgora.Base + "/agreements", Json(body));

        Assert.Equal(HttpStatusCode.BadRequest, answer.StatusCode);
    }

    [Fact]
    public async Task ASelfCrossingPolygonUnderAnAreaIsAClientError()
    {
        await using var market = await CityAsync();
        var (_, key) = await market.AgreementAsync(Source);
        using var consumer = market.Consumer(key);
        var bowTie = Uri.EscapeDataString("[[[-3.71,40.41],[-3.69,40.43],[-3.69,40.41],[-3.71,40.43],[-3.71,40.41]]]");

        using var answer = await consumer.GetAsync(EntitiesPath + $"?type=AirQualityObserved&georel=within&geometry=Polygon&coordinates={bowTie}");

        await NgsiLdAssert.ProblemAsync(answer, HttpStatusCode.BadRequest);
    }
}
