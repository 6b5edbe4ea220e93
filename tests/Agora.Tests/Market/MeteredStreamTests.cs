using System.Text;
using Agora.Market;

namespace Agora.Tests.Market;

/// The usage meter counts the entities of an answer as it streams out, whatever the strings inside them hold.
public sealed class MeteredStreamTests
{
    [Theory]
    [InlineData("""[{"id": "urn:a", "name": {"value": "say \"[{\" twice"}}, {"id": "urn:b"}]""", 2)]
    [InlineData("""[{"id": "urn:a", "path": {"value": "C:\\{temp}\\"}}, {"id": "urn:b"}, {"id": "urn:c"}]""", 3)]
    [InlineData("""{"id": "urn:a", "list": [{"x": 1}, {"x": 2}]}""", 0)]
    [InlineData("""{"type": "FeatureCollection", "features": [{"type": "Feature", "id": "urn:a", "properties": {"l": [{"x": 1}]}}, {"id": "urn:b"}]}""", 2)]
    [InlineData("""{"type": "FeatureCollection", "featuresX": [{"id": "urn:a"}], "features": []}""", 0)]
    public void EscapedQuotesAndBracketsInStringsDoNotChangeTheCount(string json, int entities)
    {
        using var sink = new MemoryStream();
        using var metered = new MeteredStream(sink);
        var bytes = Encoding.UTF8.GetBytes(json);
        // Written in small pieces, as a response is, so that an escape can straddle two writes.
        foreach (var piece in bytes.Chunk(3))
        {
            metered.Write(piece, 0, piece.Length);
        }

        Assert.Equal(entities, metered.TopLevelItems);
        Assert.Equal(bytes.Length, metered.Bytes);
    }
}
