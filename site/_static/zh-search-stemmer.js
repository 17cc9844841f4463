// Chinese pages only (site/conf.py adds this file when the language is zh_*). Sphinx's Chinese search indexes the
// Latin words of a page with the English stemmer and ships that stemmer's code in language_data.js, but the same
// file then says `window.Stemmer = ChineseStemmer`, a name it never defines (Sphinx 9.0): every page loading it
// raised "ChineseStemmer is not defined" and the search box found nothing. Loaded before language_data.js, this
// gives that name the stemmer Sphinx indexed with.
window.ChineseStemmer = function () { return new EnglishStemmer(); };
