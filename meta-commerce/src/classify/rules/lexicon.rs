//! The vocabulary of the rules classifier, per language: claim verbs, question, cancel,
//! negation, correction, past-tense, hypothetical and sarcasm cues, number words,
//! colours, sizes and the small words that glue product names together.
//!
//! Phrases are written as buyers type them; at start-up they go through the same
//! tokenizer as comments, so accents, case and stretched letters never matter.

use std::hash::{BuildHasherDefault, Hasher};
use std::sync::OnceLock;

use super::tokens::{Kind, tokenize};

/// FNV-1a: the maps here are keyed by short words from the catalog and the lexicon
/// (never inserted from comments), so a fast non-keyed hash is safe and several times
/// cheaper than SipHash for 3–10 byte keys.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

/// A `HashMap` with [`Fnv`].
pub(crate) type FastMap<K, V> = std::collections::HashMap<K, V, BuildHasherDefault<Fnv>>;

/// Spanish.
pub(crate) const ES: u8 = 1;
/// English.
pub(crate) const EN: u8 = 2;
/// Portuguese.
pub(crate) const PT: u8 = 4;
const ANY: u8 = ES | EN | PT;

/// What a phrase signals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Cue {
    /// A present claim: "me llevo", "quiero", "é meu", "I'll take".
    Claim,
    /// A claim only in the right spot: "va", "dale", "yo!", "me!".
    ClaimWeak,
    /// Asks the seller to keep or give an item; a purchase even as a question.
    Keep,
    /// An infinitive that continues a claim ("quiero comprar").
    BuyInf,
    /// An infinitive that turns "quiero" into something else ("quiero saber").
    BlockInf,
    /// An interrogative: "cuánto", "how much", "precio".
    Question,
    /// An interrogative only at the start of a clause: "hay", "tienen", "do you".
    QuestionStart,
    /// A stock question ("queda", "ainda tem"): alongside a claim it is a caveat.
    StockQuestion,
    /// A stock caveat on a claim: "si queda", "if still available".
    StockCaveat,
    /// Shipping, payment, materials: a question topic.
    Topic,
    /// Withdraws a claim.
    Cancel,
    /// Negation.
    Neg,
    /// "sí", "yes", "sim".
    Affirm,
    /// Self-correction: "mejor", "perdón", "I mean".
    Correction,
    /// "solo", "only", "só".
    Only,
    /// "en vez de", "instead of".
    InsteadOf,
    /// "cambia … por …", "swap".
    Swap,
    /// Past purchase or earlier claim.
    Past,
    /// "si", "if" (a condition follows).
    If,
    /// Subjunctive forms that make a condition hypothetical: "fuera", "tuviera", "were".
    Hypo,
    /// Conditional mood, hypothetical on its own: "llevaría", "would buy".
    Cond,
    /// Money or wealth talk inside a hypothetical or a decline.
    Personal,
    /// Price deals that do not exist ("más barato").
    Deal,
    /// Hesitation and declines: "quizás", "maybe", "la próxima".
    Hesitate,
    /// Sarcasm: "sí claro", "yeah right".
    Sarcasm,
    /// "todo", "everything".
    Everything,
    /// Compliments.
    Compliment,
    /// Greetings and chat.
    Greeting,
    /// Talking to a tagged friend: "mira", "look", "te gustaría".
    FriendTalk,
    /// Asking to be shown something.
    Show,
    /// "porfa", "please".
    Polite,
    /// Spam phrases.
    Spam,
    /// Possession or use ("ya lo tengo", "I use it").
    Have,
}

/// Flags for single words.
pub(crate) mod flag {
    /// Never a product feature (articles, prepositions, pronouns).
    pub(crate) const FUNCTION: u32 = 1;
    /// May sit inside a product name ("chaqueta de cuero").
    pub(crate) const FILLER: u32 = 1 << 1;
    /// Precedes a lot number ("la 7").
    pub(crate) const ARTICLE: u32 = 1 << 2;
    /// Splits items ("y", "and").
    pub(crate) const CONJ: u32 = 1 << 3;
    /// May split items ("con", "with").
    pub(crate) const SOFT: u32 = 1 << 4;
    /// Introduces a lot number ("número", "#").
    pub(crate) const LOTMARK: u32 = 1 << 5;
    /// Introduces a size ("talla", "size").
    pub(crate) const SIZEMARK: u32 = 1 << 6;
    /// "par", "pairs".
    pub(crate) const PAIR: u32 = 1 << 7;
    /// "unidades", "units".
    pub(crate) const UNIT: u32 = 1 << 8;
    /// A number after which the number is money or time ("50 lucas", "9 pm").
    pub(crate) const MEASURE: u32 = 1 << 9;
    /// "of", "de" between a quantity and its item.
    pub(crate) const OF: u32 = 1 << 10;
    /// Clause break ("pero", "but").
    pub(crate) const BREAK: u32 = 1 << 11;
    /// Introduces a size or variant after a noun ("en", "in", "em").
    pub(crate) const IN: u32 = 1 << 12;
    /// Words for "one": a pronoun in "the blue one".
    pub(crate) const ONE: u32 = 1 << 13;
    /// Per-pair product nouns (shoes, socks, earrings).
    pub(crate) const PAIRNOUN: u32 = 1 << 14;
}

/// What the lexicon knows about one word.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct WordInfo {
    pub(crate) flags: u32,
    /// Number words: the value.
    pub(crate) number: Option<u32>,
    /// Tens that take a unit ("veinte y uno", "twenty one").
    pub(crate) tens: bool,
    /// Size class (see [`SIZES`]).
    pub(crate) size: Option<u8>,
    /// Language hints (bit mask).
    pub(crate) lang: u8,
}

/// One phrase: its words after the first, and what it signals.
#[derive(Debug)]
pub(crate) struct Phrase {
    pub(crate) rest: Vec<String>,
    pub(crate) cue: Cue,
    pub(crate) lang: u8,
}

/// The compiled vocabulary.
#[derive(Debug)]
pub(crate) struct Lexicon {
    /// First word → phrases starting with it, longest first.
    pub(crate) phrases: FastMap<String, Vec<Phrase>>,
    /// Word (normalized) → what it is.
    pub(crate) words: FastMap<String, WordInfo>,
    /// Colour word (normalized, singular and plural) → colour id.
    pub(crate) colours: FastMap<String, u8>,
    /// Verbs that make a claim with a clitic: "sepárame", "apártamela".
    pub(crate) clitic_verbs: Vec<String>,
    /// Normalized cue words (for fuzzy matching of typos in claim verbs).
    pub(crate) fuzzy_cues: Vec<(String, Cue)>,
}

const CUES: &[(&str, Cue, u8)] = &[
    // ---- claims: Spanish
    (
        "quiero|yo quiero|kiero|kero|qiero|quiro|lo quiero|la quiero|los quiero|las quiero|si quiero|sí quiero|quisiera|quería|queria|me gustaría|me gustaria|necesito|prefiero|me quedo mejor con|i prefer|i'd rather|prefiro|eu prefiro",
        Cue::Claim,
        ES,
    ),
    (
        "me llevo|me yevo|yevo|me lo yevo|me la yevo|me lo llevo|me la llevo|me los llevo|me las llevo|lo llevo|la llevo|los llevo|las llevo|llevo|me llevaré|me llevare|me lo llevaré|me la llevaré",
        Cue::Claim,
        ES,
    ),
    (
        "me quedo con|me quedo|me lo quedo|me la quedo|me los quedo|me las quedo|me pido|me lo pido|me la pido|pido|lo pido|la pido|me anoto|me anoto con|me apunto|me apunto con|me sumo|me interesa|me interesan",
        Cue::Claim,
        ES,
    ),
    (
        "compro|lo compro|la compro|los compro|las compro|voy a comprar|voy a llevar|voy a llevarme|me voy a llevar|voy con|voy por|me voy con|voy a querer|confirmo|confirmado|confirmada",
        Cue::Claim,
        ES,
    ),
    (
        "mío|mía|míos|mías|mio|mia|mios|mias|es mío|es mía|es mio|es mia|son míos|son mías|para mí|para mi|pa mí|pa mi|pami|x mi|para mí porfa|apartado|apartada|separado|separada|reservado|reservada|anotado|anotada|anotame|anótame|apuntame|apúntame|sumame|súmame",
        Cue::Claim,
        ES,
    ),
    (
        "dame|deme|denme|dámelo|dámela|damelo|damela|ponme|pónme|mándame|mandame|envíame|enviame|véndeme|vendeme|pásame|pasame|agrégame|agregame|añádeme|añademe",
        Cue::Keep,
        ES,
    ),
    (
        "separa|separá|sepárame|separame|aparta|apartá|apártame|apartame|reserva|reservá|resérvame|reservame|guarda|guardá|guárdame|guardame|anota|anotá|apunta|agrega|añade",
        Cue::Keep,
        ES | PT,
    ),
    (
        "me guardas|me la guardas|me lo guardas|me los guardas|me las guardas|me guardás|me separas|me la separas|me lo separas|me separás|me apartas|me la apartas|me lo apartas|me apartás|me reservas|me la reservas|me lo reservas|me reservás|me anotas|me anotás|me das|me la das|me lo das|me vendes|me la vendes|me lo vendes|me la dejas|me lo dejas|me pasas|me mandas|me la mandas|me lo mandas|me regalas",
        Cue::Keep,
        ES,
    ),
    (
        "guardar|separar|apartar|reservar|anotar|apuntar|me puedes guardar|me puedes separar|me puedes apartar|me puedes reservar|puedes guardarme|puedes separarme|puedes apartarme|puedes reservarme|podrías guardarme|podrías separarme|podrias separarme|podrías apartarme|podrias apartarme",
        Cue::Keep,
        ES | PT,
    ),
    (
        "va|dale|listo|yo también|yo tambien|yo tb|yo igual|eu também|eu tambem|me too|me 2",
        Cue::ClaimWeak,
        ANY,
    ),
    // ---- claims: English
    (
        "i want|want|wants|i'll take|ill take|i will take|i'm taking|im taking|i'll buy|ill buy|i will buy|i'm buying|im buying|buying|i'll get|ill get|let me get|lemme get|gimme|give me|i'd like|id like|i would like|i need|need|i'll have|ill have|i want to buy|take my money|i'll order|ill order|ordering|put me down for|put me down|add me|add|add to my cart|add to cart|count me in|i'm in|im in|ship it|ring me up|i'll take it|ill take it|grab|i'll grab|ill grab|let me grab|snag|i'll snag",
        Cue::Claim,
        EN,
    ),
    (
        "i'd love|id love|i would love|sold|mine|it's mine|its mine|that's mine|thats mine|claim|claiming|claimed|i claim|dibs|i call|for me|me please|yes please|take",
        Cue::Claim,
        EN,
    ),
    (
        "hold|save|reserve|set aside|put aside|keep|can i get|could i get|may i get|can i have|could i have|may i have|can i take|could i take|can i buy|could i buy|can i order|can you hold|could you hold|can you save|could you save|can you reserve|could you reserve|can you keep|please hold|hold it",
        Cue::Keep,
        EN,
    ),
    // ---- claims: Portuguese
    (
        "quero|eu quero|queria|eu queria|quero levar|quero comprar|vou levar|vou querer|vou comprar|vou pegar|vou ficar com|fico com|eu fico com|levo|eu levo|pego|compro|eu compro|é meu|é minha|eh meu|eh minha|e meu|e minha|é nosso|pra mim|para mim|p mim|pra mi|gostaria|eu gostaria|quero sim|confirmo|separado pra mim|me vê|me ve",
        Cue::Claim,
        PT,
    ),
    (
        "separa pra mim|separa para mim|me separa|reserva pra mim|reserva para mim|me reserva|guarda pra mim|guarda para mim|me guarda|me manda|manda pra mim|pode separar|pode guardar|pode reservar|consegue separar|consegue guardar|dá pra separar|da pra separar|separa ai|separa aí",
        Cue::Keep,
        PT,
    ),
    // ---- infinitives after a claim
    (
        "querer|comprar|llevar|llevarme|llevarla|llevarlo|pedir|pedirla|pedirlo|buy|get|order|levar|pegar|adquirir",
        Cue::BuyInf,
        ANY,
    ),
    (
        "saber|ver|verla|verlo|verlas|preguntar|probar|probarme|probarla|probármela|mirar|conocer|entender|decir|hablar|comentar|know|see|ask|try|check|watch|say|talk|understand|perguntar|provar|olhar|conhecer|dizer|falar|entender|ir|go|ganar|win|ganhar",
        Cue::BlockInf,
        ANY,
    ),
    // ---- questions
    (
        "cuánto|cuanto|cuánta|cuanta|cuántos|cuantos|cuántas|cuantas|precio|precios|preço|preco|valor|costo|cuesta|cuestan|custa|custam|quanto|quanta|quantos|quantas|how much|how many|how long|how do|how does|how can|price|prices|cost|dónde|cuándo|cuál|cuáles|qual|quais|which|what|whats|what's|where|when|why|por qué|info|información|informacion|informação|informacao|detalles|details|medidas|measurements|será que|alguien sabe|anyone know|what size|verdad|cierto|né|right?|aceptan|acepta|aceita|aceitam|accept|accepts|do you accept",
        Cue::Question,
        ANY,
    ),
    (
        "any|viene|vienen|vem|vêm|do you|does|did|is|are|was|can you|could you|will you|would you|can i pay|anyone|alguien|alguém|se puede|puedo|puedes|podés|posso|pode|como|qué talla|que talla|trae|traen|traz",
        Cue::QuestionStart,
        ANY,
    ),
    (
        "hay|tienen|tiene|tenés|tenes|tienes|tem|têm|tem ainda|queda|quedan|quedará|ainda tem|still have|still available|is it available|is this available|sold out|agotado|agotada|agotados|esgotado|esgotada|disponible|disponibles|disponível|disponivel|available|in stock|any left|hay stock|todavía hay|todavia hay|aún hay|aun hay|sigue disponible|do you have|do you still have|you have|have you got",
        Cue::StockQuestion,
        ANY,
    ),
    (
        "envío|envio|envíos|envios|envían|envian|envías|hacen envíos|hacen envios|despacho|despachan|ship|shipping|ships|deliver|delivery|frete|entrega|entregam|entregan|envia|enviam|pagar|pago|pay|payment|pagamento|pix|transferencia|transferência|tarjeta|card|paypal|efectivo|cash|cuotas|parcela|parcelado|boleto|mercado pago|material|tela|fabric|algodón|algodon|cotton|original|talla real|true to size|a prueba de agua|waterproof|dura|duración|long lasting|tallado|tallan|horma",
        Cue::Topic,
        ANY,
    ),
    (
        "si hay|si queda|si quedan|si todavía hay|si todavia hay|si aún hay|si aun hay|si todavía queda|si todavia queda|si aún queda|si aun queda|si sigue|si sigue disponible|si está disponible|si esta disponible|si hay stock|if available|if still available|if it's still available|if its still available|if you still have|if any left|if there's any|if theres any|if in stock|if there is stock|se tiver|se ainda tiver|se tem|se ainda tem|se tiverem|caso tenha|se sobrou|se ainda houver|se tiver ainda",
        Cue::StockCaveat,
        ANY,
    ),
    // ---- cancels
    (
        "cancela|cancelá|cancelar|cancelo|cancélame|cancelame|cancelen|cancelado|cancelada|cancélalo|cancelalo|cancélala|cancelala|anula|anulá|anular|anulo|anulen|anúlame|anulame|me bajo|me bajo de|me bajo del|bájame|bajame|me salgo|sácame|sacame|quítame|quitame|quita|quiten|elimina|elimíname|eliminame|bórrame|borrame|borra|desisto|me arrepentí|me arrepenti|olvídalo|olvidalo|mejor no|libera|libérala|liberala|la suelto|lo suelto|ya no voy a querer|no voy a querer|ya no voy a llevar|ya no lo voy a llevar|ya no la voy a llevar|ya no quiero|ya no lo quiero|ya no la quiero|ya no los quiero|ya no las quiero|no lo quiero más|no la quiero más|no lo quiero mas|no la quiero mas|no quiero más|no quiero mas|ya no me interesa",
        Cue::Cancel,
        ES,
    ),
    (
        "cancel|cancelled|canceled|cancelling|canceling|remove|remove me|take off|take me off|take it off|never mind|nevermind|nvm|don't want it anymore|dont want it anymore|don't want it|dont want it|no longer want|changed my mind|i pass|pass on|unclaim|i'm out|im out|count me out|not anymore",
        Cue::Cancel,
        EN,
    ),
    (
        "cancela|cancelar|cancelo|cancelem|cancelado|cancelada|desisto|desistir|desiste|desisti|desisti de|desisti do|desisti da|não vou mais querer|nao vou mais querer|não vou querer mais|nao vou querer mais|não quero mais|nao quero mais|num quero mais|tira|tirar|tira meu nome|pode tirar|remove|remover|exclui|excluir|desconsidera|desconsiderar|mudei de ideia|deixa pra lá|deixa pra la|desfaz|desfazer",
        Cue::Cancel,
        PT,
    ),
    // ---- negation, affirmation, corrections
    (
        "no|not|não|nao|nunca|never|nem|ni|don't|dont|doesn't|doesnt|didn't|didnt|isn't|isnt|tampoco|neither|nope|nop",
        Cue::Neg,
        ANY,
    ),
    (
        "yes|yep|yup|sim|claro que sí|claro que si|eso sí|esa sí|esa si|essa sim",
        Cue::Affirm,
        ANY,
    ),
    (
        "mejor|perdón|perdon|perdona|disculpa|digo|quise decir|mejor dicho|corrijo|corrección|correccion|en realidad|más bien|mas bien|i mean|i meant|meant|actually|oops|ops|wait|no wait|espera|pera|esperá|na verdade|quer dizer|aliás|alias|melhor|rather|scratch that|err|me equivoqué|me equivoque|me confundí|me confundi|my bad|sorry|desculpa|desculpe|ay no|ah no",
        Cue::Correction,
        ANY,
    ),
    (
        "sino|but rather|solo|sólo|solamente|nomás|nomas|nada más|nada mas|no más|no mas|only|just|só|apenas|somente",
        Cue::Only,
        ANY,
    ),
    (
        "en vez de|en vez del|en lugar de|en lugar del|instead of|em vez de|em vez do|em vez da|ao invés de|ao invés do|ao invés da|ao inves de|no lugar de|no lugar do|no lugar da",
        Cue::InsteadOf,
        ANY,
    ),
    (
        "cambia|cámbiame|cambiame|cambiar|cámbiamela|cambiamela|change|swap|switch|troca|trocar|troque|muda|mudar",
        Cue::Swap,
        ANY,
    ),
    // ---- past purchases and earlier claims
    (
        "compré|ya compré|ya compre|me llegó|me llego|ya llegó|ya llego|llegó mi|llego mi|llegó el|recibí|recibi|ya tengo|ya lo tengo|ya la tengo|ya los tengo|ya las tengo|ya pedí|ya pedi|pedí|ya aparté|aparté|separé|ya pagué|pagué|pague|me llevé|me lleve|la otra vez|el live pasado|el otro live|la semana pasada|ya había|ya habia|ya lo había|ya la había|compramos|ya lo pedí|ya la pedí|ya me lo llevé|anoche compré|se vendió|ya se vendió|se vendieron|se agotó|ya se agotó",
        Cue::Past,
        ES,
    ),
    (
        "got my|got mine|got it|received|arrived|bought|i bought|already bought|already have|already claimed|already ordered|i ordered|ordered|purchased|last time|last live|last week|i already|already got|came yesterday|already sold|was sold|got sold",
        Cue::Past,
        EN,
    ),
    (
        "chegou|já chegou|ja chegou|comprei|já comprei|ja comprei|recebi|já tenho|ja tenho|já pedi|ja pedi|pedi|ganhei|da outra vez|live passada|semana passada|já separei|paguei|já vendeu|esgotou|acabou",
        Cue::Past,
        PT,
    ),
    (
        "uso|lo uso|la uso|i use|i have one|i have it|tengo uno|tengo una|tengo el|tengo la|eu uso|tenho um|tenho uma",
        Cue::Have,
        ANY,
    ),
    // ---- hypotheticals, money talk, deals, hesitation, sarcasm
    (
        "si|if|se eu|se a gente|se fosse|ojalá|ojala|quem dera|i wish|wish|if only",
        Cue::If,
        ANY,
    ),
    (
        "fuera|fueras|fuese|fuesen|fueran|tuviera|tuvieras|tuvieran|tuviese|tuviesen|hubiera|hubieran|hubiese|viniera|vinieran|viniese|pudiera|pudiese|costara|saliera|were|had|could|came|come|fosse|fossem|tivesse|tivessem|viesse|viessem|vier|tivesse em",
        Cue::Hypo,
        ANY,
    ),
    (
        "llevaría|llevaria|compraría|compraria|pediría|pediria|llevaba|compraba|agarraría|agarraria|me la llevaría|would|i'd buy|id buy|i'd take it|would buy|would take|i'd get|levaria|compraria|pegaria|levava|comprava|ficaria",
        Cue::Cond,
        ANY,
    ),
    (
        "millonaria|millonario|millonarias|rica|rich|money|dinero|lotería|loteria|lottery|grana|dinheiro|pobre|broke|quebrada|quebrado|sin plata|no tengo plata|no tengo dinero|sin dinero|no me alcanza|no alcanza|can't afford|cant afford|no tengo lana|não tenho dinheiro|nao tenho dinheiro|sem dinheiro|no money|no tengo un peso|estoy pobre|me alcanzara|me alcance|tuviera plata|tuviese plata|tenga plata|tuviera dinero|hubiera plata|con qué plata|con que plata|plata para|dinero para|money for|grana pra|dinheiro pra",
        Cue::Personal,
        ANY,
    ),
    (
        "si me la dejan en|si me lo dejan en|si me la dejas en|si me lo dejas en|si me la dejas a|si me lo dejas a|me la dejas en|me lo dejas en|if you do it for|if you make it|se fizer por|se fizer a|más barato|mas barato|más barata|mas barata|cheaper|descuento|discount|desconto|rebaja|rebajado|2x1|promo|promoción|promocion|mais barato|mais barata|liquidación|liquidacion|oferta|sale price",
        Cue::Deal,
        ANY,
    ),
    (
        "quizás|quizas|quizá|quiza|tal vez|talvez|maybe|perhaps|no sé|no se si|no sé si|not sure|não sei|nao sei|lo pienso|lo voy a pensar|voy a pensar|vou pensar|estoy pensando|thinking about|la próxima|la proxima|next time|otro día|otro dia|próxima vez|proxima vez|hoy no|not today|hoje não|hoje nao|i'll pass|no puedo|não posso|nao posso|no me queda|doesn't fit|nadie|ninguna|nothing|no quiero nada",
        Cue::Hesitate,
        ANY,
    ),
    (
        "sí claro|si claro|claro claro|yeah right|sure jan|ajá|aja|aham|aham sei|até parece|ate parece|ni loca|ni loco|ni en sueños|ni en sueños|in your dreams|as if|obvio que no|ni muerta|ni muerto|y un riñón|y un riñon|and a kidney|como no",
        Cue::Sarcasm,
        ANY,
    ),
    (
        "todo|todos|everything|tudo|todas las|toda la tienda|the whole store|the whole shop|all of it|all of them|la tienda entera|loja toda|a loja inteira|todo el live|everything you have",
        Cue::Everything,
        ANY,
    ),
    // ---- chat
    (
        "linda|lindo|lindas|lindos|hermosa|hermoso|hermosas|bonita|bonito|bonitas|preciosa|precioso|bella|bello|divina|divino|hermosura|belleza|cute|beautiful|pretty|gorgeous|love|lovely|stunning|amazing|amei|amo|adoro|maravilhosa|maravilhoso|perfeita|perfeito|encanta|encantó|encanto|me encanta|me encantó|me gusta|me gustó|gusta|what a|how cute|how beautiful|how pretty|qué bonito|que bonito|lindíssima|lindissima|buenísimo|buenisimo|buenísima|genial|great|awesome|wow|so cute|que lindo|qué lindo|que linda|qué linda|fofa|fofo|top|chulo|chula|bacán|bacan|regio|hermosas todas|obsessed|slay|fire",
        Cue::Compliment,
        ANY,
    ),
    (
        "hola|holi|holis|buenas|buenos días|buenos dias|buenas noches|buenas tardes|saludos|saludos desde|hi|hello|hey|good evening|good morning|good night|oi|olá|ola|bom dia|boa noite|boa tarde|gente|chicas|girls|amigas|gracias|thanks|thank you|obrigada|obrigado|jaja|jajaja|jeje|lol|haha|kk|kkk|rs|rsrs|compartiendo|sharing|compartilhando|desde|from|watching|viendo|assistindo|live",
        Cue::Greeting,
        ANY,
    ),
    (
        "mira|mirá|miren|look|look at|check this|olha|olha isso|viste|te gustaría|te gustaria|te gusta|do you like|what do you think|qué opinas|que opinas|gostou|você gosta|para ti|pra você|pra voce|for you|esta te queda|this one for you",
        Cue::FriendTalk,
        ANY,
    ),
    (
        "muéstrame|muestrame|muestra|muestren|mostrar|mostrame|mostrá|show|show me|mostra|me mostra|could you show|can you show|enseña|enséñame",
        Cue::Show,
        ANY,
    ),
    (
        "porfa|porfis|porfiss|por favor|porfavor|porfa porfa|x favor|xfa|xfavor|plis|pliss|please|pls|plz|pf|pfv|pfvr|por fa|obg",
        Cue::Polite,
        ANY,
    ),
    (
        "gana dinero|ganar dinero|gane dinero|ganhe|ganhe dinheiro|seguidores gratis|seguidores grátis|free followers|click here|haz clic|clic aquí|clique aqui|giveaway|sorteo gratis|entra aquí|entra aqui|acesse|visit my|visita mi|dm me|escríbeme al|inbox me|link in bio|link en mi perfil|trabaja desde casa|work from home|bitcoin|crypto|forex|inversión segura",
        Cue::Spam,
        ANY,
    ),
];

/// Size classes: 0 XS, 1 S, 2 M, 3 L, 4 XL, 5 XXL. Brazilian P/M/G/GG map onto S/M/L/XL.
pub(crate) const SIZES: &[(&str, u8)] = &[
    ("xs", 0),
    ("xxs", 0),
    ("pp", 0),
    ("s", 1),
    ("p", 1),
    ("small", 1),
    ("chica", 1),
    ("m", 2),
    ("medium", 2),
    ("mediana", 2),
    ("l", 3),
    ("g", 3),
    ("large", 3),
    ("grande", 3),
    ("xl", 4),
    ("gg", 4),
    ("xg", 4),
    ("eg", 4),
    ("xxl", 5),
    ("xgg", 5),
    ("xxxl", 5),
];

/// Colour families, each with its words in es/en/pt.
const COLOURS: &[&str] = &[
    "rojo|roja|rojos|rojas|red|vermelho|vermelha|colorado|colorada|rojito|rojita|scarlet|encarnado",
    "azul|azules|blue|azuis|azulito",
    "negro|negra|negros|negras|black|preto|preta|negrito|negrita|pretinho|pretinha",
    "blanco|blanca|blancos|blancas|white|branco|branca|blanquito|branquinho",
    "gris|grises|gray|grey|cinza|plomo|plomos|cinzento|cinzenta",
    "café|cafe|cafés|marrón|marron|marrones|brown|marrom|chocolate|camel|caramelo",
    "dorado|dorada|dorados|doradas|gold|golden|dourado|dourada|oro|ouro",
    "plata|plateado|plateada|silver|prata|prateado|prateada",
    "rosa|rosado|rosada|rosas|pink|rosinha|rosita",
    "nude|nudes",
    "beige|bege|crema|cream|crudo|cru|arena|sand|hueso",
    "verde|verdes|green|verdinho",
    "amarillo|amarilla|yellow|amarelo|amarela",
    "morado|morada|purple|roxo|roxa|lila|violeta|lilac|violet|lilás|lilas",
    "naranja|naranjo|orange|laranja|anaranjado|anaranjada",
    "celeste|celestes",
    "marino|navy",
    "fucsia|fuchsia|magenta",
    "coral|salmón|salmon",
    "burdeo|burdeos|bordó|bordo|vino|vinotinto|burgundy|wine|vinho|granate",
    "turquesa|turquoise|aqua",
    "mostaza|mustard|mostarda",
    "carey|tortoiseshell|tortoise|leopardo|leopard|oncinha",
    "floreado|floreada|floral|flores|florido|florida|estampado|estampada|flower|flowers|print",
];

/// Words that are never product features; many may sit inside product names.
const FUNCTION_WORDS: &[(&str, u32)] = &[
    // (words, flags)
    (
        "de|del|of|do|da|das|em|no|na|nos|nas",
        flag::FUNCTION | flag::FILLER | flag::OF,
    ),
    (
        "la|el|lo|los|las|the|a|o|os|as|al|do|da|del",
        flag::FUNCTION | flag::FILLER | flag::ARTICLE,
    ),
    ("en|in|em", flag::FUNCTION | flag::FILLER | flag::IN),
    ("un|una|um|uma|an", flag::FUNCTION | flag::FILLER),
    ("one|ones|uno", flag::FUNCTION | flag::FILLER | flag::ONE),
    (
        "esa|ese|esta|este|esas|esos|estas|estos|essa|esse|esta|este|isso|isto|this|that|these|those|aquella|aquel",
        flag::FUNCTION | flag::FILLER,
    ),
    (
        "color|colour|cor|tono|tom|tonalidad|shade|modelo|model|estilo|style|tipo|type",
        flag::FUNCTION | flag::FILLER,
    ),
    (
        "talla|tallas|size|sizes|tamanho|tamaño|tamano|tam|nro talla|número de talla|numero",
        flag::FUNCTION | flag::FILLER | flag::SIZEMARK,
    ),
    ("con|com|with", flag::FUNCTION | flag::FILLER | flag::SOFT),
    ("y|e|and|&|ou|or|o", flag::FUNCTION | flag::CONJ),
    (
        "pero|but|porém|porem|though|aunque|although|mas",
        flag::FUNCTION | flag::BREAK,
    ),
    (
        "n|nro|nr|num|number|lote|lot|item|ítem|art|artículo|articulo|producto|código|codigo|code|cod|ref|referencia|prenda|peça|produto|número|numero|numerito",
        flag::FUNCTION | flag::LOTMARK,
    ),
    (
        "par|pares|pair|pairs|parzinho|parcito",
        flag::FUNCTION | flag::PAIR,
    ),
    (
        "unidades|unidad|unid|und|uds|units|unit|pcs|pc|pieces|piece|pzas|pza|piezas|pieza|peças|pecas|peca|items|itens|cajas|boxes|frascos|bottles",
        flag::FUNCTION | flag::UNIT,
    ),
    (
        "lucas|luca|mil|k|pesos|peso|clp|mxn|usd|dólares|dolares|dollars|dollar|bucks|reais|real|brl|ml|cm|kg|mts|metros|am|pm|hs|hrs|hr|h|min|minutos|minutes|días|dias|days|años|anos|years|semanas|weeks|horas|hours|hora|veces|times|vezes|seguidores|followers|likes|percent|por ciento|porciento|mb|gb",
        flag::FUNCTION | flag::MEASURE,
    ),
    (
        "me|te|se|le|les|nos|mi|mis|tu|tus|su|sus|yo|tú|él|ella|ellos|i|you|he|she|it|we|they|my|your|our|his|her|their|eu|você|voce|vc|ele|ela|meu|minha|seu|sua|para|pra|pa|por|for|to|x|que|qué|q|is|are|es|é|eh|son|está|esta|estan|was|be|so|muy|very|muito|too|también|tambien|also|ya|already|still|aún|aun|ainda|todavía|todavia|hoy|today|hoje|ahora|now|agora|más|mais|more|otra|otro|another|outra|outro|si|sí|if|se|yes|sim|ok|okay|dale|bueno|bien|good|bom|boa|cada|each|cual|cuál|qual|which|what|como|how|unica|única|unico|único|only|just|all|todo|tudo|alguna|alguno|some|any|vez|time|aqui|aquí|here|ahí|ahi|there|alli|allá|la de|el de|al|del|ok|oki|vale|jaja",
        flag::FUNCTION,
    ),
];

/// Nouns of products sold by the pair ("un par" of these is one unit).
const PAIR_NOUNS: &str = "zapatilla|zapatillas|zapato|zapatos|zapas|tenis|tênis|sneaker|sneakers|shoe|shoes|bota|botas|boot|boots|botín|botines|botin|botinha|sandalia|sandalias|sandália|sandálias|sandal|sandals|rasteirinha|chancla|chanclas|ojotas|alpargatas|calcetín|calcetines|calceta|calcetas|sock|socks|meia|meias|aro|aros|arete|aretes|pendiente|pendientes|brinco|brincos|earring|earrings|argolla|argollas|argola|argolas|hoop|hoops|guante|guantes|glove|gloves|luva|luvas|zapatilla deportiva|deportivas|mocasines|loafers|heels|tacones|tacos";

/// Number words 1–30 (and the tens that combine with units).
const NUMBERS: &[(&str, u32)] = &[
    ("dos|two|dois|duas", 2),
    ("docena|dozen|dúzia|duzia", 12),
    ("tres|três|three", 3),
    ("cuatro|four|quatro", 4),
    ("cinco|five", 5),
    ("seis|six", 6),
    ("siete|seven|sete", 7),
    ("ocho|eight|oito", 8),
    ("nueve|nine|nove", 9),
    ("diez|ten|dez", 10),
    ("once|eleven|onze", 11),
    ("doce|twelve|doze", 12),
    ("trece|thirteen|treze", 13),
    ("catorce|fourteen|catorze|quatorze", 14),
    ("quince|fifteen|quinze", 15),
    ("dieciséis|dieciseis|sixteen|dezesseis|dezasseis", 16),
    ("diecisiete|seventeen|dezessete|dezassete", 17),
    ("dieciocho|eighteen|dezoito", 18),
    ("diecinueve|nineteen|dezenove|dezanove", 19),
    ("veinte|twenty|vinte", 20),
    ("veintiuno|veintiuna|veintiún", 21),
    ("veintidós|veintidos", 22),
    ("veintitrés|veintitres", 23),
    ("veinticuatro", 24),
    ("veinticinco", 25),
    ("veintiséis|veintiseis", 26),
    ("veintisiete", 27),
    ("veintiocho", 28),
    ("veintinueve", 29),
    ("treinta|thirty|trinta", 30),
    ("cuarenta|forty|quarenta", 40),
    ("cincuenta|fifty|cinquenta", 50),
];

/// Single words that hint at a language (beyond the cue phrases).
const LANG_HINTS: &[(&str, u8)] = &[
    (
        "el|los|las|del|y|en|por|con|una|uno|es|está|porfa|hola|gracias|cuánto|talla|hay|tienen|mí|pa|sí|jaja|jajaja|qué|ya|yo|muy|pero|todo|también|bien|bueno|buenas|noches|chicas|vendedora|desde|llegó|primera|vez|lucas|mía|mío|quiero|llevo|polera|remera|playera|zapatillas|poleron|polerón|aros|aretes|envío|envíos|cómo|pago|tienda|transmisión|ve|lenta|dame|quedo|pido|anoto|separame|apartame|me|bajo|cancela|anula|labial|rímel|gorro|lentes|collar|cartera|bolso|chaqueta|vestido|floreado|negro|negra|roja|rojo|blanca|blanco|sudadera|buzo|calcetines|sandalias|botines|precio|ahí|aquí|esta|este|esa|ese|saludos|amor|linda|lindo|hermosa|bonito|bonita|si|aceptan|hacen|cuesta|sale|material|cuánta|dónde|hasta|hora|nos|para|mi|tu|su|le|les|lo|la|de|que|no|un|al",
        ES,
    ),
    (
        "the|i|you|is|are|do|does|to|of|and|in|for|it|this|that|my|want|take|please|pls|how|much|what|whats|size|ship|love|beautiful|lol|hi|thanks|thank|yes|sold|mine|claim|from|great|always|order|got|yesterday|any|more|can|get|pay|with|look|at|watching|work|long|shipping|true|real|one|cute|so|i'll|ill|the|me|black|white|red|blue|grey|gray|brown|gold|silver|pink|dress|shoes|sneakers|socks|earrings|necklace|purse|sunglasses|beanie|hoodie|tee|jacket|jeans|lipstick|perfume|palette|boots|sandals|foundation|mascara|here|click|free|money|be|have|has|will|would|there|they|we|she|he|your|our|just|only|not|no|don't|dont|sorry|cancel|pairs|pair|two|three|take|buy|need|hold|save",
        EN,
    ),
    (
        "o|os|um|uma|do|da|não|nao|é|eu|você|voce|pra|mim|meu|minha|tem|isso|esse|essa|olha|gente|boa|noite|oi|obrigada|obrigado|quanto|custa|frete|tamanho|amei|kkk|kkkk|vou|levar|com|muito|tudo|também|chegou|ainda|aceita|entrega|assistindo|mesmo|qual|batom|camiseta|vermelha|vermelho|preto|preta|branco|branca|calça|tênis|moletom|brincos|colar|bolsa|óculos|touca|meia|meias|jaqueta|couro|sandália|rasteirinha|quero|queria|levo|separa|desculpa|cancelar|pedido|pix|lindo|linda|cinza|dourada|dourado|prata|bege|baunilha|cílios|sombras|base|média|médio|duas|dois|três|pares|ganhe|seguidores|grátis|acesse|recife|brasil|sp|rj|nossa|aqui|lá|agora|hoje|cadê|tá|está|né|vocês|moça|moço|ela|ele|foi|ser|ter|fazer|pode|posso|quero|gostei|amo|legal|bonito|bonita|manda|guarda|reserva|vc|vcs|na|nas|ao|aos|pelo|pela|se|mais|mas|como|onde|quando|porque|por|até|sem|sobre|entre|já|só|ou|nem|muito|bem|então",
        PT,
    ),
];

/// Verbs that make a claim when a clitic is glued on ("sepárame", "apártamela").
const CLITIC_VERBS: &str = "separa|aparta|reserva|guarda|anota|apunta|deja|manda|vende|suma|pon|da|trae|envia|agrega|añade|pasa|regala|cobra";
const CLITICS: [&str; 12] = [
    "melos", "melas", "mela", "melo", "noslo", "nosla", "nos", "me", "la", "lo", "las", "los",
];

fn norm_of(phrase: &str) -> Vec<String> {
    tokenize(phrase)
        .into_iter()
        .filter(|t| !matches!(t.kind, Kind::Punct('\'')))
        .map(|t| t.norm)
        .collect()
}

impl Lexicon {
    fn build() -> Lexicon {
        let mut phrases: FastMap<String, Vec<Phrase>> = FastMap::default();
        let mut words: FastMap<String, WordInfo> = FastMap::default();
        let mut fuzzy_cues = Vec::new();
        for &(list, cue, lang) in CUES {
            for p in list.split('|') {
                let norms = norm_of(p);
                let Some((first, rest)) = norms.split_first() else {
                    continue;
                };
                if rest.is_empty()
                    && first.len() >= 5
                    && matches!(cue, Cue::Claim | Cue::Keep | Cue::Cancel)
                {
                    fuzzy_cues.push((first.clone(), cue));
                }
                phrases.entry(first.clone()).or_default().push(Phrase {
                    rest: rest.to_vec(),
                    cue,
                    lang,
                });
            }
        }
        for v in phrases.values_mut() {
            v.sort_by_key(|p| std::cmp::Reverse(p.rest.len()));
        }
        for &(list, flags) in FUNCTION_WORDS {
            for w in list.split('|') {
                let norms = norm_of(w);
                if norms.len() == 1 {
                    words.entry(norms[0].clone()).or_default().flags |= flags;
                }
            }
        }
        for (w, class) in SIZES {
            words.entry((*w).to_owned()).or_default().size = Some(*class);
        }
        for &(list, n) in NUMBERS {
            for w in list.split('|') {
                for norm in norm_of(w) {
                    let e = words.entry(norm).or_default();
                    e.number = Some(n);
                    e.tens = n >= 20 && n % 10 == 0;
                }
            }
        }
        for w in PAIR_NOUNS.split('|') {
            for t in tokenize(w) {
                words.entry(t.stem).or_default().flags |= flag::PAIRNOUN;
            }
        }
        for &(list, lang) in LANG_HINTS {
            for w in list.split('|') {
                for norm in norm_of(w) {
                    words.entry(norm).or_default().lang |= lang;
                }
            }
        }
        // Colours are matched on the whole word (and its plural), not the stem: stems of
        // short words collide ("viña" and "vino" share "vin").
        let mut colours = FastMap::default();
        for (id, list) in COLOURS.iter().enumerate() {
            let id = u8::try_from(id).unwrap_or(u8::MAX);
            for w in list.split('|') {
                for t in tokenize(w) {
                    for form in [
                        t.norm.clone(),
                        format!("{}s", t.norm),
                        format!("{}es", t.norm),
                    ] {
                        colours.entry(form).or_insert(id);
                    }
                }
            }
        }
        let clitic_verbs = CLITIC_VERBS.split('|').flat_map(norm_of).collect();
        Lexicon {
            phrases,
            words,
            colours,
            clitic_verbs,
            fuzzy_cues,
        }
    }

    /// What the lexicon knows about a normalized word.
    pub(crate) fn word(&self, norm: &str) -> WordInfo {
        self.words.get(norm).copied().unwrap_or_default()
    }

    /// The colour id of a normalized word ("rojas", "vermelha", "black").
    pub(crate) fn colour(&self, norm: &str) -> Option<u8> {
        self.colours.get(norm).copied()
    }

    /// "sepárame", "apártamela", "guardámelo": a claim verb with clitics attached.
    pub(crate) fn is_clitic_claim(&self, norm: &str) -> bool {
        CLITICS.iter().any(|c| {
            norm.strip_suffix(c).is_some_and(|verb| {
                verb.len() >= 2
                    && (self.clitic_verbs.iter().any(|v| v == verb)
                        || verb
                            .strip_suffix("me")
                            .is_some_and(|v| self.clitic_verbs.iter().any(|x| x == v)))
            })
        })
    }
}

/// The process-wide lexicon, compiled on first use.
pub(crate) fn lexicon() -> &'static Lexicon {
    static LEX: OnceLock<Lexicon> = OnceLock::new();
    LEX.get_or_init(Lexicon::build)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phrases_are_normalized_like_comments() {
        let lex = lexicon();
        let p = lex.phrases.get("me").unwrap();
        assert!(p.iter().any(|p| p.rest == ["levo"] && p.cue == Cue::Claim));
        assert!(lex.phrases.contains_key("quiero"));
        assert_eq!(lex.word("siete").number, Some(7));
        assert_eq!(lex.word("g").size, Some(3));
        assert!(lex.colour("vermelha").is_some());
        assert_eq!(lex.colour("negras"), lex.colour("preto"));
        assert!(lex.colour("vina").is_none());
    }

    #[test]
    fn no_phrase_has_two_meanings() {
        let lex = lexicon();
        let mut dups = Vec::new();
        for (first, list) in &lex.phrases {
            for (i, a) in list.iter().enumerate() {
                for b in &list[i + 1..] {
                    if a.rest == b.rest && a.cue != b.cue {
                        dups.push(format!("{first} {:?}: {:?} / {:?}", a.rest, a.cue, b.cue));
                    }
                }
            }
        }
        dups.sort();
        assert!(dups.is_empty(), "{dups:#?}");
    }

    #[test]
    fn clitic_claims() {
        let lex = lexicon();
        assert!(lex.is_clitic_claim("separame"));
        assert!(lex.is_clitic_claim("apartamela"));
        assert!(lex.is_clitic_claim("guardamelo"));
        assert!(!lex.is_clitic_claim("mesa"));
        assert!(COLOURS.len() <= 32, "colour ids must fit a u32 mask");
    }
}
