"""The Spanish meta-templates of ``mx_templates``, several phrasings per task and question kind.

Placeholders: ``{cite}`` (artículo 5o), ``{de_law}`` (de la Ley …), ``{law}``, ``{numeral}``,
``{term}``, ``{statement}``, ``{prefix}``, ``{options}``, ``{categories}``, ``{answer}``.
Ids are ``<task>.<kind>.<n>`` and go into ``template_or_model``.
"""

from __future__ import annotations

TEMPLATES: dict[str, list[str]] = {
    # --- exqa: the answer is a span of the context ----------------------------------------
    "exqa.fraccion": [
        "Según el {cite} {de_law}, ¿qué dispone la fracción {numeral}?",
        "Lee el siguiente artículo y transcribe el contenido de su fracción {numeral}.",
        "¿Qué establece la fracción {numeral} del {cite} {de_law}? Responde con el texto del artículo.",
        "Del artículo que se muestra, extrae lo que señala la fracción {numeral}.",
        "¿Cuál es el texto de la fracción {numeral} en el artículo siguiente?",
    ],
    "exqa.definicion": [
        "De acuerdo con el {cite} {de_law}, ¿qué se entiende por «{term}»?",
        "¿Cómo define el siguiente artículo el término «{term}»?",
        "Extrae del texto la definición de «{term}».",
        "Según este artículo, ¿qué significa «{term}»?",
        "Para los efectos {de_law}, ¿qué es «{term}»? Contesta con las palabras del artículo.",
    ],
    "exqa.plazo": [
        "¿Qué plazo menciona el {cite} {de_law}?",
        "Lee el artículo e indica el plazo que establece.",
        "Según el texto siguiente, ¿de cuánto tiempo es el plazo señalado?",
        "Extrae del artículo el periodo de tiempo que fija.",
        "¿Cuál es el término que prevé este artículo? Responde solo con el plazo.",
    ],
    "exqa.primera": [
        "¿Cuál es la primera disposición del {cite} {de_law}?",
        "Transcribe la primera oración del siguiente artículo.",
        "¿Con qué disposición comienza este artículo?",
        "Extrae del texto la oración con la que inicia el {cite}.",
    ],
    # --- qg: write the question whose answer is given --------------------------------------
    "qg.respuesta": [
        "Escribe una pregunta sobre el siguiente artículo cuya respuesta sea: «{answer}».",
        "Formula una pregunta que se responda con «{answer}», a partir del texto.",
        "Redacta una pregunta de comprensión lectora para este artículo; la respuesta es «{answer}».",
    ],
    # --- ynqa: true or altered statements --------------------------------------------------
    "ynqa.contexto": [
        "Lee el artículo y responde sí o no: ¿dispone que «{statement}»?",
        "¿Es correcto afirmar, según el texto, que «{statement}»? Responde sí o no y justifica.",
        "De acuerdo con el siguiente artículo, ¿es verdad que «{statement}»?",
        "Con base en el texto, indica si la siguiente afirmación es verdadera: «{statement}».",
        "¿El {cite} {de_law} establece lo siguiente? «{statement}»",
    ],
    "ynqa.memoria": [
        "¿Es cierto que el {cite} {de_law} dispone que «{statement}»?",
        "Responde sí o no: según el {cite} {de_law}, «{statement}».",
        "¿Establece el {cite} {de_law} que «{statement}»?",
    ],
    # --- mcqa: four options, one correct ---------------------------------------------------
    "mcqa.ley": [
        "¿A qué ordenamiento pertenece el siguiente artículo?\n{options}",
        "Elige la ley de la que proviene este artículo.\n{options}",
        "Lee el artículo y selecciona el ordenamiento al que corresponde.\n{options}",
        "¿De cuál de los siguientes ordenamientos se tomó el texto?\n{options}",
    ],
    "mcqa.oracion": [
        "¿Cuál de las siguientes afirmaciones aparece en el {cite} {de_law}?\n{options}",
        "Elige la disposición que forma parte del artículo mostrado.\n{options}",
        "Según el texto, ¿cuál de estas oraciones es parte del artículo?\n{options}",
        "Selecciona la opción que reproduce una disposición de este artículo.\n{options}",
    ],
    "mcqa.capitulo": [
        "¿En qué capítulo {de_law} se ubica el siguiente artículo?\n{options}",
        "Elige el rubro bajo el que se encuentra este artículo.\n{options}",
        "¿Bajo cuál de estos encabezados {de_law} aparece el artículo?\n{options}",
    ],
    # --- qa: open answer, no options -------------------------------------------------------
    "qa.contenido": [
        "¿Qué establece el {cite} {de_law}?",
        "Transcribe el {cite} {de_law}.",
        "¿Cuál es el texto del {cite} {de_law}?",
        "Cita el contenido del {cite} {de_law}.",
        "¿Qué dispone el {cite} {de_law}?",
    ],
    "qa.numero": [
        "¿Qué artículo {de_law} dice lo siguiente?",
        "Identifica el número de artículo {de_law} al que corresponde este texto.",
        "¿Cuál es el número del artículo {de_law} que contiene esta disposición?",
    ],
    "qa.ubicacion": [
        "¿En qué parte {de_law} se encuentra el {cite}?",
        "Indica el título y capítulo {de_law} donde se ubica el {cite}.",
        "¿Bajo qué encabezados {de_law} está el {cite}?",
    ],
    # --- summarization: a title for a chapter or an article --------------------------------
    "summarization.capitulo": [
        "Propón un título breve para el siguiente capítulo {de_law}.",
        "Resume en un encabezado el tema de los siguientes artículos.",
        "¿Cuál sería el rubro adecuado para este grupo de artículos {de_law}?",
        "Escribe el título que resume el contenido de este capítulo.",
        "Lee los artículos y resume su tema común en pocas palabras.",
    ],
    "summarization.articulo": [
        "Resume en pocas palabras el tema del siguiente artículo.",
        "¿Qué encabezado resume mejor el contenido de este artículo {de_law}?",
        "Da un título breve que describa el tema del {cite} {de_law}.",
        "¿De qué trata el siguiente artículo? Contesta con un título corto.",
    ],
    # --- topic_class: which law, which category, which title -------------------------------
    "topic_class.ley": [
        "¿A qué ley pertenece el siguiente artículo?",
        "Clasifica el artículo según el ordenamiento del que proviene.",
        "Identifica el ordenamiento jurídico al que corresponde este texto.",
        "¿De qué ordenamiento federal se tomó este artículo?",
    ],
    "topic_class.categoria": [
        "Clasifica el ordenamiento del que proviene el artículo en una de estas categorías: {categories}.",
        "¿De qué tipo de ordenamiento es este artículo? Opciones: {categories}.",
        "Indica la categoría del ordenamiento ({categories}) al que pertenece el texto.",
    ],
    "topic_class.titulo": [
        "¿En qué título {de_law} se clasifica el siguiente artículo?",
        "Indica el rubro general {de_law} al que pertenece este artículo.",
        "¿Bajo qué título o libro {de_law} se agrupa este artículo?",
    ],
    # --- sent_comp: finish the article's sentence ------------------------------------------
    "sent_comp.memoria": [
        "Completa la siguiente disposición del {cite} {de_law}: «{prefix} …»",
        "Termina la oración del {cite} {de_law}: «{prefix} …»",
        "¿Cómo continúa este texto del {cite} {de_law}? «{prefix} …»",
        "Completa: «{prefix} …» ({cite} {de_law})",
    ],
    "sent_comp.contexto": [
        "Completa la oración con las palabras del artículo: «{prefix} …»",
        "Según el texto, ¿cómo termina la frase «{prefix} …»?",
        "Lee el artículo y completa: «{prefix} …»",
    ],
    # --- legal_qa / legal_mcqa: what the article says (plugins/instructions/content.py) -------
    # the question about one kind of provision; {masked} is its sentence with the value left out
    "pregunta.plazo": [
        "Según el {cite} {de_law}, ¿qué plazo se establece en esta disposición? «{masked}»",
        "¿De cuánto tiempo es el plazo que fija el {cite} {de_law}? «{masked}»",
        "En el {cite} {de_law}, ¿cuál es el plazo que falta en «{masked}»?",
        "¿Qué término prevé el {cite} {de_law} en la siguiente disposición? «{masked}»",
    ],
    "pregunta.sancion": [
        "Según el {cite} {de_law}, ¿qué pena corresponde en este caso? «{masked}»",
        "¿Con qué pena de prisión sanciona el {cite} {de_law} la conducta siguiente? «{masked}»",
        "En el {cite} {de_law}, ¿cuál es la pena que falta en «{masked}»?",
    ],
    "pregunta.cuantia": [
        "Según el {cite} {de_law}, ¿cuál es la cuantía en esta disposición? «{masked}»",
        "¿Qué monto o porcentaje fija el {cite} {de_law}? «{masked}»",
        "En el {cite} {de_law}, ¿qué cantidad falta en «{masked}»?",
    ],
    "pregunta.autoridad": [
        "Según el {cite} {de_law}, ¿qué autoridad u órgano menciona esta disposición? «{masked}»",
        "¿A quién se refiere el {cite} {de_law} en la siguiente disposición? «{masked}»",
        "En el {cite} {de_law}, ¿qué autoridad falta en «{masked}»?",
        "¿Qué órgano es competente según el {cite} {de_law}? «{masked}»",
    ],
    "pregunta.definicion": [
        "Según el {cite} {de_law}, ¿qué se entiende por «{term}»?",
        "¿Cómo define el {cite} {de_law} el término «{term}»?",
        "Para los efectos {de_law}, ¿qué es «{term}»?",
    ],
    "pregunta.lista": [
        "¿Cuál de los siguientes supuestos NO figura entre las fracciones del {cite} {de_law}?",
        "Señala la opción que NO forma parte de lo que enumera el {cite} {de_law}.",
        "¿Qué fracción NO corresponde al {cite} {de_law}?",
    ],
    "legal_qa.contexto": [
        "{question}",
        "Lee el artículo y responde citándolo: {question}",
        "Con base en el texto del artículo, contesta en una oración: {question}",
    ],
    "legal_qa.memoria": [
        "{question}",
        "Responde citando el artículo: {question}",
        "Sin consultar el texto, contesta en una oración: {question}",
    ],
    "legal_qa.contexto_breve": [
        "Responde solo con el dato, sin explicación: {question}",
        "Lee el artículo y contesta en pocas palabras: {question}",
        "Respuesta breve, con las palabras del artículo: {question}",
    ],
    "legal_qa.memoria_breve": [
        "Responde solo con el dato, sin explicación: {question}",
        "Contesta en pocas palabras: {question}",
        "Respuesta breve: {question}",
    ],
    "legal_mcqa.contexto": [
        "{question}\n{options}",
        "Lee el artículo y elige la opción correcta. {question}\n{options}",
        "Con base en el texto, responde con la opción correcta.\n{question}\n{options}",
    ],
    "legal_mcqa.memoria": [
        "{question}\n{options}",
        "Elige la opción correcta. {question}\n{options}",
        "Responde con el texto de la opción correcta.\n{question}\n{options}",
    ],
}

YES = ["Sí. {why}", "Sí, el artículo lo establece. {why}", "Verdadero. {why}"]
NO = ["No. {why}", "No, el artículo no dice eso. {why}", "Falso. {why}"]
